using Orleans.Runtime;

namespace DiffusionCluster.Abstractions;

/// The client side of a generation: validates at the edge, then submits under one request id, and
/// resubmits under the same id if the silo holding the request grain is lost, so a silo crash costs time,
/// not the request (the grain re-runs it from its seed on a live silo).
public static class CascadeRequests
{
    const int Submissions = 3;

    public static async Task<GenerationResult> Generate(this IGrainFactory grains, GenerationSpec spec, Guid? requestId = null,
        CancellationToken cancellation = default)
    {
        spec.Validate();
        var id = requestId ?? Guid.NewGuid();
        for (int submission = 1; ; submission++)
        {
            try
            {
                return await grains.GetGrain<IGenerationGrain>(id).Generate(spec, cancellation);
            }
            catch (Exception e) when (submission < Submissions && IsSiloLoss(e) && !cancellation.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(submission), cancellation);
            }
        }
    }

    /// Failures of the cluster (a lost silo, a dropped connection, no answer) rather than of the request.
    public static bool IsSiloLoss(Exception e) => e is OrleansException or TimeoutException;
}
