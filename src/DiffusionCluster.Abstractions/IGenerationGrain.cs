using Orleans.Concurrency;

namespace DiffusionCluster.Abstractions;

/// One generation, keyed by its request id. Its spec, owner, state and finished image are persistent (the cluster's
/// request storage), so any gateway answers for it and a request whose silo is lost resumes on another. Start and
/// Generate are idempotent per id: calling again with the same spec joins the request, so a client can safely
/// resubmit after losing the silo it talked to.
[Alias("DiffusionCluster.IGenerationGrain")]
public interface IGenerationGrain : IGrainWithGuidKey
{
    /// Records the request and starts it; answers with its progress once admitted (at once, but for a cold cluster's
    /// first burst, when admission waits up to 15 s for the stages' first measurements; a Start sent again meanwhile
    /// joins it), or throws StageOverloadedException. Owner is whoever may read it later (the gateway's digest of an
    /// API key; "" for none).
    [Alias("Start")]
    Task<GenerationProgress> Start(GenerationSpec spec, string owner);

    /// Start for work that may wait its turn (a job): a request the cluster cannot take now is recorded at once and
    /// queued on its silo, first come first served within each owner (the owners taking turns), to start when admission finds room for it (GenerationProgress.
    /// StartAfter estimates when; its deadline counts from its start), rather than refused; it is refused only when
    /// that estimate is further away than the silo's Silo:QueueSeconds.
    [Alias("Queue")]
    Task<GenerationProgress> Queue(GenerationSpec spec, string owner);

    /// Waits up to `timeout` for the request to end: its result, null while it still runs (or when this id holds
    /// no request), or the request's failure. A short wait per call keeps every call bounded when silos are lost.
    [Alias("Wait"), AlwaysInterleave, ResponseTimeout("00:02:00")]
    Task<GenerationResult?> Wait(TimeSpan timeout);

    /// Start with no owner, then the whole wait in one call: for callers inside the cluster and tests.
    [Alias("Generate"), ResponseTimeout("01:00:00")]
    Task<GenerationResult> Generate(GenerationSpec spec, CancellationToken cancellation = default);

    [Alias("GetProgress"), AlwaysInterleave]
    Task<GenerationProgress> GetProgress();

    /// The progress once its Version differs from seenVersion (at once if it already does), or as it is after `timeout`:
    /// a watcher costs one call per change, not one per polling interval, so a queue of waiting jobs costs little.
    [Alias("WatchProgress"), AlwaysInterleave, ResponseTimeout("00:02:00")]
    Task<GenerationProgress> WatchProgress(long seenVersion, TimeSpan timeout);

    /// A stage's worker reporting the step this request's batch has reached at `stage`, with a PNG of the step's
    /// estimate of the image when the request asked for previews (one-way: a slow request grain never holds a batch).
    /// Ignored unless the request is running that stage.
    [Alias("ReportStep"), OneWay, AlwaysInterleave]
    Task ReportStep(CascadeStage stage, int step, int totalSteps, byte[]? preview = null);

    [Alias("Cancel"), AlwaysInterleave]
    Task Cancel();
}
