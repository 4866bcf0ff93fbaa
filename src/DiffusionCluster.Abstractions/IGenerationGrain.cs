using Orleans.Concurrency;

namespace DiffusionCluster.Abstractions;

/// One generation, keyed by its request id. Its spec, owner, state and finished image are persistent (the cluster's
/// request storage), so any gateway answers for it and a request whose silo is lost resumes on another. Start and
/// Generate are idempotent per id: calling again with the same spec joins the request, so a client can safely
/// resubmit after losing the silo it talked to.
[Alias("DiffusionCluster.IGenerationGrain")]
public interface IGenerationGrain : IGrainWithGuidKey
{
    /// Records the request and starts it; answers at once with its progress. Owner is whoever may read it later
    /// (the gateway's digest of an API key; "" for none).
    [Alias("Start")]
    Task<GenerationProgress> Start(GenerationSpec spec, string owner);

    /// Waits up to `timeout` for the request to end: its result, null while it still runs (or when this id holds
    /// no request), or the request's failure. A short wait per call keeps every call bounded when silos are lost.
    [Alias("Wait"), AlwaysInterleave, ResponseTimeout("00:02:00")]
    Task<GenerationResult?> Wait(TimeSpan timeout);

    /// Start with no owner, then the whole wait in one call: for callers inside the cluster and tests.
    [Alias("Generate"), ResponseTimeout("01:00:00")]
    Task<GenerationResult> Generate(GenerationSpec spec, CancellationToken cancellation = default);

    [Alias("GetProgress"), AlwaysInterleave]
    Task<GenerationProgress> GetProgress();

    [Alias("Cancel"), AlwaysInterleave]
    Task Cancel();
}
