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

    /// Admission: the stage where a new request would wait longest, when that wait is more than it can afford.
    /// A stage's wait is the requests ahead of the new one there (every running request that has not passed it, or
    /// its hosts' queues where those are longer) times its measured seconds per request, shared by its hosts; a
    /// stage with no host or no measurement yet adds nothing. The exception's retry hint is the time until the
    /// wait fits. Null: admit.
    public static StageOverloadedException? Saturated(IEnumerable<CascadeStage> stages, IReadOnlyCollection<SiloDescription?> silos, double affordableSeconds)
    {
        var known = silos.OfType<SiloDescription>().ToList();
        (CascadeStage Stage, int Ahead, int Hosts, double Seconds)? worst = null;
        foreach (var stage in stages)
        {
            var hosts = known.Where(d => d.Load.ContainsKey(stage)).ToList();
            var perRequest = hosts.Select(h => h.SecondsPerRequest?.GetValueOrDefault(stage) ?? 0).Where(t => t > 0).DefaultIfEmpty(0).Average();
            if (hosts.Count == 0 || perRequest == 0) continue;
            int ahead = Math.Max(known.Sum(d => d.Ahead?.GetValueOrDefault(stage) ?? 0), hosts.Sum(h => h.Load[stage]));
            var seconds = ahead * perRequest / hosts.Count;
            if (worst is null || seconds > worst.Value.Seconds) worst = (stage, ahead, hosts.Count, seconds);
        }
        if (worst is not { } w || w.Seconds <= affordableSeconds) return null;
        return new StageOverloadedException(
            $"the cluster is saturated: stage {w.Stage.Name()} has {w.Ahead} requests ahead of this one, about {w.Seconds:0} s of work for its {w.Hosts} hosts, " +
            $"more than the {affordableSeconds:0} s this request can wait within its deadline; retry later or add replicas of this stage",
            w.Seconds - affordableSeconds);
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
