using DiffusionCluster.Abstractions;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace DiffusionCluster.Grains.Stages;

/// Answers a client with the active silos of this silo's membership view: a stateless worker, so it runs on the
/// gateway silo the client called and reads memory, not the membership table.
[StatelessWorker]
public sealed class ClusterViewGrain(IClusterMembershipService membership) : Grain, IClusterViewGrain
{
    public Task<List<SiloAddress>> ActiveSilos() => Task.FromResult(Active(membership));

    /// The active silos of a silo's in-memory membership view.
    public static List<SiloAddress> Active(IClusterMembershipService membership) => membership.CurrentSnapshot.Members.Values
        .Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
}
