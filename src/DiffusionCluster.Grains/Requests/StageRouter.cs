using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Placement;
using Orleans.Runtime;

namespace DiffusionCluster.Grains.Requests;

/// Finds the silos that host a stage, least loaded first: asks the cluster for its active silos, then each
/// silo what it hosts and how busy each stage is. A silo that does not answer in time is skipped.
public sealed class StageRouter(IGrainFactory grains)
{
    static readonly TimeSpan DescribeTimeout = TimeSpan.FromSeconds(5);

    /// AllAnswered: every active silo described itself, so an empty list means no silo hosts the stage.
    public async Task<(IReadOnlyList<SiloDescription> Hosts, bool AllAnswered)> Candidates(CascadeStage stage, IReadOnlySet<string> excluded)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var descriptions = await Task.WhenAll(hosts.Keys
            .Where(silo => !excluded.Contains(SiloKeys.Of(silo)))
            .Select(Describe));
        var hostsOfStage = descriptions
            .Where(d => d is not null && d.Load.ContainsKey(stage))
            .Select(d => d!)
            .OrderBy(d => d.Load[stage])
            .ThenBy(_ => Random.Shared.Next())
            .ToList();
        return (hostsOfStage, descriptions.All(d => d is not null));
    }

    async Task<SiloDescription?> Describe(SiloAddress silo)
    {
        try
        {
            return await grains.GetGrain<ISiloStagesGrain>(SiloKeys.Of(silo)).Describe().WaitAsync(DescribeTimeout);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null;
        }
    }
}
