using Orleans.Runtime;

namespace DiffusionCluster.Abstractions;

/// The client side of a generation: validates at the edge, then starts it under one request id and waits in
/// short, bounded calls. If the silo holding the request grain is lost, a call fails or times out; the next
/// Start (idempotent per id) reaches the request again on a live silo, where it has resumed from its stored spec.
public static class CascadeRequests
{
    /// The most one Start or Cancel call may take: a call to a silo that was just killed can otherwise hang until
    /// Orleans declares the silo dead.
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);
    /// How long one Wait call waits for the request to end before the client checks in again.
    static readonly TimeSpan WaitSlice = TimeSpan.FromSeconds(15);
    /// Beyond the request's own deadline: time for the cluster to declare a lost silo dead and resume the request.
    static readonly TimeSpan RecoveryAllowance = TimeSpan.FromMinutes(3);

    public static async Task<GenerationResult> Generate(this IGrainFactory grains, GenerationSpec spec, Guid? requestId = null,
        CancellationToken cancellation = default, string owner = "")
    {
        spec.Validate();
        var request = grains.GetGrain<IGenerationGrain>(requestId ?? Guid.NewGuid());
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(spec.DeadlineSeconds) + RecoveryAllowance;
        for (int losses = 0; ; )
        {
            bool starting = true;
            try
            {
                cancellation.ThrowIfCancellationRequested();
                await request.Start(spec, owner).WaitAsync(CallTimeout, cancellation);
                starting = false;
                if (await request.Wait(WaitSlice).WaitAsync(WaitSlice + CallTimeout, cancellation) is { } result) return result;
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                // The caller left (a closed HTTP connection, Ctrl+C): cancel the request itself, not only the wait.
                _ = request.Cancel();
                throw;
            }
            // Start cancels nothing itself: a Start call cancelled by nobody here is one the client runtime gave up on
            // (seen while silos were being killed), and Start is idempotent. Wait, though, rethrows the request's own
            // cancellation, which is its answer.
            catch (Exception e) when (IsSiloLoss(e) || starting && e is OperationCanceledException)
            {
                if (DateTime.UtcNow > giveUp)
                    throw new TimeoutException($"request {request.GetPrimaryKey()} did not finish within its deadline ({spec.DeadlineSeconds} s) and "
                        + $"{RecoveryAllowance.TotalMinutes:0} min for the cluster to recover; last failure: {e.Message}", e);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, 0.5 * (1 << Math.Min(losses++, 4)))), CancellationToken.None);
            }
        }
    }

    /// Failures of the cluster (a lost silo, a dropped connection, no answer) rather than of the request.
    public static bool IsSiloLoss(Exception e) => e is OrleansException or TimeoutException;
}
