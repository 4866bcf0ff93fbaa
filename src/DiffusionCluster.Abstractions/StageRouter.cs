using Orleans.Runtime;

namespace DiffusionCluster.Abstractions;

/// Finds the silos that host a stage, least loaded first: takes the cluster's active silos, then asks each
/// silo what it hosts and how busy each stage is. A silo that does not answer in time is skipped.
/// activeSilos: on a silo, its in-memory membership view (IClusterMembershipService); left out (a client at the
/// edge), the membership view of the gateway silo the client calls (IClusterViewGrain). Routing never reads the
/// membership table, so a database outage leaves it working.
public sealed class StageRouter(IGrainFactory grains, Func<IReadOnlyCollection<SiloAddress>>? activeSilos = null)
{
    static readonly TimeSpan DescribeTimeout = TimeSpan.FromSeconds(5);

    /// AllAnswered: every active silo described itself, so an empty list means no silo hosts the stage.
    public async Task<(IReadOnlyList<SiloDescription> Hosts, bool AllAnswered)> Candidates(CascadeStage stage, IReadOnlySet<string> excluded)
    {
        var descriptions = await DescribeAll(excluded);
        var hostsOfStage = descriptions
            .Where(d => d is not null && d.Load.ContainsKey(stage))
            .Select(d => d!)
            .OrderBy(d => d.Load[stage])
            .ThenBy(_ => Random.Shared.Next())
            .ToList();
        return (hostsOfStage, descriptions.All(d => d is not null));
    }

    /// Every active silo's description (null for one that did not answer in time), the excluded ones left out.
    public async Task<SiloDescription?[]> DescribeAll(IReadOnlySet<string>? excluded = null)
    {
        var silos = activeSilos is not null ? activeSilos() : await grains.GetGrain<IClusterViewGrain>(0).ActiveSilos();
        return await Task.WhenAll(silos.Where(silo => excluded is null || !excluded.Contains(silo.ToParsableString())).Select(Describe));
    }

    /// A stage that every one of its hosts reports full: the soonest any of them has room. Null when some host has
    /// room (or none answered: the request's own routing then waits for one).
    public static StageOverloadedException? Saturated(CascadeStage stage, IEnumerable<SiloDescription?> silos)
    {
        var hosts = silos.Where(d => d is not null && d.Load.ContainsKey(stage)).Select(d => d!).ToList();
        if (hosts.Count == 0 || hosts.Any(h => h.Full?.ContainsKey(stage) != true)) return null;
        return new StageOverloadedException(
            $"the cluster is saturated: stage {stage.Name()} is overloaded, its queue full on all {hosts.Count} of its hosts; retry later or add replicas of this stage",
            hosts.Min(h => h.Full![stage]));
    }

    /// The stage's worker on its least-loaded host, for what the edge asks before a request runs (the text encoder's
    /// vocabulary, a prompt check).
    public async Task<IStageWorkerGrain> LeastLoadedWorker(CascadeStage stage)
    {
        var (hosts, _) = await Candidates(stage, new HashSet<string>()).WaitAsync(TimeSpan.FromSeconds(10));
        if (hosts.Count == 0) throw new InvalidOperationException($"no active silo hosts stage {stage.Name()}; start a silo with that stage");
        return Worker(stage, hosts[0].Silo);
    }

    /// The stage's worker on the given silo: keyed "{stage}/{silo}", which places it on that silo.
    public IStageWorkerGrain Worker(CascadeStage stage, string silo) => grains.GetGrain<IStageWorkerGrain>($"{stage.Name()}/{silo}");

    async Task<SiloDescription?> Describe(SiloAddress silo)
    {
        try
        {
            // Keyed by the silo's address, which places the grain on that silo.
            return await grains.GetGrain<ISiloStagesGrain>(silo.ToParsableString()).Describe().WaitAsync(DescribeTimeout);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null;
        }
    }
}
