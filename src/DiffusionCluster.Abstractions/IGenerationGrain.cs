using Orleans.Concurrency;

namespace DiffusionCluster.Abstractions;

/// One generation, keyed by its request id. Generate is idempotent per id: calling it again while it runs
/// joins the running work, so a client can safely resubmit after losing the silo it talked to.
[Alias("DiffusionCluster.IGenerationGrain")]
public interface IGenerationGrain : IGrainWithGuidKey
{
    [Alias("Generate"), ResponseTimeout("01:00:00")]
    Task<GenerationResult> Generate(GenerationSpec spec, CancellationToken cancellation = default);

    [Alias("GetProgress"), AlwaysInterleave]
    Task<GenerationProgress> GetProgress();

    [Alias("Cancel"), AlwaysInterleave]
    Task Cancel();

}
