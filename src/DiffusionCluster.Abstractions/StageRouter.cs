using Orleans.Runtime;

namespace DiffusionCluster.Abstractions;

/// Finds the silos that host a stage, least loaded first: takes the cluster's active silos, then asks each
/// silo what it hosts and how busy each stage is. A silo that does not answer in time is skipped.
/// activeSilos: on a silo, its in-memory membership view (IClusterMembershipService); left out (a client at the
/// edge), the membership view of the gateway silo the client calls (IClusterViewGrain). Routing never reads the
/// membership table, so a database outage leaves it working.
/// reuseFor: how long one round of descriptions serves every request routed through this router (one router per
/// silo), so routing costs a lookup rather than a call to every silo per stage. A round older than that is asked for
/// again in the background while requests go on routing by the one they have (a request never waits for a round
/// unless none is recent: the first, or one after the router sat idle). Requests sent to a host since the round
/// in use was asked for count towards its load, so a burst within the window spreads over the hosts. A round that is
/// slow to land (a silo going away answers only at DescribeTimeout) does not hold requests up: they route by the
/// round before it. Zero: ask every time.
public sealed class StageRouter(IGrainFactory grains, Func<IReadOnlyCollection<SiloAddress>>? activeSilos = null, TimeSpan reuseFor = default)
{
    static readonly TimeSpan DescribeTimeout = TimeSpan.FromSeconds(5);
    /// A round older than this many reuse windows is not routed by while a new one is asked for: the router was idle
    /// and its view of load means nothing now.
    const int StaleRounds = 8;
    readonly object _gate = new();
    /// The round requests route by, when it was asked for, and the requests sent to each (silo, stage) since then.
    SiloDescription?[]? _current;
    long _currentAsked;
    long _currentLanded;
    Dictionary<(string Silo, CascadeStage Stage), int> _sentSinceCurrent = new();
    /// The round being asked for, and the requests sent since it was asked for (they become the counts once it lands).
    Task<SiloDescription?[]>? _pending;
    long _pendingAsked;
    Dictionary<(string Silo, CascadeStage Stage), int> _sentSincePending = new();

    /// AllAnswered: every active silo described itself, so an empty list means no silo hosts the stage.
    public async Task<(IReadOnlyList<SiloDescription> Hosts, bool AllAnswered)> Candidates(CascadeStage stage, IReadOnlySet<string> excluded)
    {
        var descriptions = await DescribeAll(excluded);
        List<(SiloDescription Host, int Load)> hosts;
        lock (_gate)
            hosts = descriptions.OfType<SiloDescription>().Where(d => d.Load.ContainsKey(stage))
                .Select(d => (d, d.Load[stage] + _sentSinceCurrent.GetValueOrDefault((d.Silo, stage)))).ToList();
        var hostsOfStage = hosts.OrderBy(h => h.Load).ThenBy(_ => Random.Shared.Next()).Select(h => h.Host).ToList();
        return (hostsOfStage, descriptions.All(d => d is not null));
    }

    /// Counts a request sent to a host, until a round asked for after it reports it in the host's load.
    public void Sent(CascadeStage stage, string silo)
    {
        if (reuseFor <= TimeSpan.Zero) return;
        lock (_gate)
        {
            _sentSinceCurrent[(silo, stage)] = _sentSinceCurrent.GetValueOrDefault((silo, stage)) + 1;
            if (_pending is not null) _sentSincePending[(silo, stage)] = _sentSincePending.GetValueOrDefault((silo, stage)) + 1;
        }
    }

    /// Every active silo's description (null for one that did not answer in time), the excluded ones left out.
    /// recent: from a round asked for within the reuse window (waiting for the next one if the one in hand is older).
    public async Task<SiloDescription?[]> DescribeAll(IReadOnlySet<string>? excluded = null, bool recent = false)
    {
        var all = await Round(recent);
        return excluded is null or { Count: 0 } ? all : all.Where(d => d is null || !excluded.Contains(d.Silo)).ToArray();
    }

    /// The round to route by: the current one while it is recent, asking for the next in the background once it is
    /// older than reuseFor; the next one itself when there is no recent round.
    Task<SiloDescription?[]> Round(bool recent = false)
    {
        if (reuseFor <= TimeSpan.Zero) return AskAll();
        lock (_gate)
        {
            var age = _current is null ? TimeSpan.MaxValue : System.Diagnostics.Stopwatch.GetElapsedTime(_currentAsked);
            if (age >= reuseFor && _pending is null)
            {
                _pendingAsked = System.Diagnostics.Stopwatch.GetTimestamp();
                _sentSincePending = new();
                // On the thread pool, not the calling grain's scheduler: the round serves every grain on the silo.
                var pending = Task.Run(AskAll);
                _pending = pending;
                _ = pending.ContinueWith(Land, TaskScheduler.Default);
            }
            // A round in flight can take DescribeTimeout when a silo is going away (and the next one too, until the
            // silo is declared dead); the one in hand serves meanwhile if it had landed recently when that round was
            // asked for (not a router waking from idleness).
            bool inHandWasRecent = _current is not null && _pending is not null
                && System.Diagnostics.Stopwatch.GetElapsedTime(_currentLanded, _pendingAsked) < reuseFor * StaleRounds;
            return age < (recent ? reuseFor : reuseFor * StaleRounds) || (!recent && inHandWasRecent) ? Task.FromResult(_current!) : _pending!;
        }
    }

    /// A round that has landed becomes the one requests route by; a failed one leaves the last in place.
    void Land(Task<SiloDescription?[]> round)
    {
        lock (_gate)
        {
            if (round.IsCompletedSuccessfully)
            {
                _current = round.Result;
                _currentAsked = _pendingAsked;
                _currentLanded = System.Diagnostics.Stopwatch.GetTimestamp();
                _sentSinceCurrent = _sentSincePending;
            }
            _pending = null;
        }
    }

    async Task<SiloDescription?[]> AskAll()
    {
        var silos = activeSilos is not null ? activeSilos() : await grains.GetGrain<IClusterViewGrain>(0).ActiveSilos();
        return await Task.WhenAll(silos.Select(Describe));
    }

    /// The spacing of the returns of requests refused before a stage is measured: a crowd of n refused together comes
    /// back over about n / 10 s, by when the first batches have measured the stage.
    public const double UnmeasuredSlotSeconds = 0.1;

    /// Admission: the stage where a new request would wait longest, when that wait is more than it can afford.
    /// A stage's wait is the requests ahead of the new one there (every running request that has not passed it, or
    /// its hosts' queues where those are longer) times its measured seconds per request, shared by its hosts. Before
    /// any host has measured the stage, no more are admitted ahead of it than its hosts' queues hold (a burst that
    /// arrives before the first batch ends is not taken on trust). A stage with no host adds nothing (the request's
    /// routing waits for one). The exception's retry hint is the time until the wait fits. Null: admit.
    public static StageOverloadedException? Saturated(IEnumerable<CascadeStage> stages, IReadOnlyCollection<SiloDescription?> silos, double affordableSeconds)
    {
        var known = silos.OfType<SiloDescription>().ToList();
        (CascadeStage Stage, int Ahead, int Hosts, double Seconds, double Slot)? worst = null;
        foreach (var stage in stages)
        {
            var hosts = known.Where(d => d.Load.ContainsKey(stage)).ToList();
            if (hosts.Count == 0) continue;
            var perRequest = hosts.Select(h => h.SecondsPerRequest?.GetValueOrDefault(stage) ?? 0).Where(t => t > 0).DefaultIfEmpty(0).Average();
            int ahead = Math.Max(known.Sum(d => d.Ahead?.GetValueOrDefault(stage) ?? 0), hosts.Sum(h => h.Load[stage]));
            if (perRequest == 0)
            {
                int room = hosts.Sum(h => h.QueueLimits?.GetValueOrDefault(stage) ?? 0);
                if (room > 0 && ahead >= room)
                    return new StageOverloadedException(
                        $"the cluster is saturated: stage {stage.Name()} has {ahead} requests ahead of this one, as many as its {hosts.Count} hosts' queues hold, " +
                        "before its service time is measured; retry later or add replicas of this stage", 2, UnmeasuredSlotSeconds, unmeasured: true);
                continue;
            }
            var seconds = ahead * perRequest / hosts.Count;
            if (worst is null || seconds > worst.Value.Seconds) worst = (stage, ahead, hosts.Count, seconds, perRequest / hosts.Count);
        }
        if (worst is not { } w || w.Seconds <= affordableSeconds) return null;
        return new StageOverloadedException(
            $"the cluster is saturated: stage {w.Stage.Name()} has {w.Ahead} requests ahead of this one, about {w.Seconds:0} s of work for its {w.Hosts} hosts, " +
            $"more than the {affordableSeconds:0} s this request can wait within its deadline; retry later or add replicas of this stage",
            w.Seconds - affordableSeconds, w.Slot);
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
        catch (Exception)
        {
            // Unreachable, too slow, or a call Orleans cancelled as the silo went away (nothing here cancels it):
            // the silo sits this round out.
            return null;
        }
    }
}
