using DiffusionCluster.Abstractions;
using Orleans.Runtime;

namespace DiffusionCluster.Grains.Requests;

/// This silo's jobs waiting for their turn to start (IGenerationGrain.Queue on a saturated cluster), first come first
/// served within each owner (API key), the owners taking turns (FairOrder: one key's burst does not hold back another
/// key's later job). Every Poll a loop on the thread pool goes through the queue in that order and starts each job
/// that admission's rule says would fit now (Check: StageRouter.Saturated over a recent round of silo descriptions, this silo's
/// backlog as it is now), counting it in the backlog as it starts so that the next check sees it; a job whose stages
/// have room (a 64 px job behind 256 px ones waiting for sr256) does not wait behind one whose stages have none. A
/// turn is a place in the queue, not a time: when the cluster runs faster or slower than estimated, jobs start as
/// room appears. A silo singleton.
public sealed class AdmissionQueue : IDisposable
{
    sealed record Waiter(string Owner, IReadOnlyList<CascadeStage> Stages, double AffordableSeconds, TaskCompletionSource<RequestBacklog.Tracker> Turn);

    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    readonly StageRouter _router;
    readonly RequestBacklog _backlog;
    readonly string _silo;
    readonly LinkedList<Waiter> _queue = new();
    readonly object _gate = new();
    readonly CancellationTokenSource _stop = new();
    /// The bottleneck's time per request over its hosts at the last refusal, for estimates while the queue drains.
    double _slotSeconds;

    public AdmissionQueue(StageRouter router, RequestBacklog backlog, ILocalSiloDetails localSilo)
    {
        _router = router;
        _backlog = backlog;
        _silo = localSilo.SiloAddress.ToParsableString();
        _ = Task.Run(Loop);
    }

    public int Count
    {
        get { lock (_gate) return _queue.Count; }
    }

    /// Admission's rule: the stage where a new request would wait longest, if that wait is more than it can afford
    /// (null: it fits). This silo's own requests ahead are read as they are now, not as the round saw them: a burst
    /// arrives faster than the rounds refresh.
    public StageOverloadedException? Check(IEnumerable<CascadeStage> stages, SiloDescription?[] round, double affordableSeconds)
    {
        var saturated = StageRouter.Saturated(stages,
            round.Select(d => d?.Silo == _silo ? d with { Ahead = _backlog.Ahead() } : d).ToList(), affordableSeconds);
        if (saturated is { SlotSeconds: > 0 } s) _slotSeconds = s.SlotSeconds;
        return saturated;
    }

    /// When a job of `owner` joining the queue now may expect to start: `earliest` seconds from now (the current work
    /// ahead draining to what it may wait for), plus a slot for each job FairOrder puts before it.
    public double EstimateSeconds(string owner, double earliest)
    {
        List<string> owners;
        lock (_gate) owners = _queue.Select(w => w.Owner).ToList();
        return Math.Max(0, earliest) + (JobsBefore(owners, owner) + 1) * _slotSeconds;
    }

    /// The order the queue is served in: each owner's jobs in their order of arrival, the owners taking turns (every
    /// owner's first job, then every owner's second, ...; owners in order of their first job).
    public static IReadOnlyList<int> FairOrder(IReadOnlyList<string> owners)
    {
        var seen = new Dictionary<string, int>();
        var rounds = new int[owners.Count];
        for (int i = 0; i < owners.Count; i++)
            rounds[i] = seen[owners[i]] = seen.GetValueOrDefault(owners[i], -1) + 1;
        return Enumerable.Range(0, owners.Count).OrderBy(i => rounds[i]).ThenBy(i => i).ToList();
    }

    /// How many of the queued jobs (their owners, in order of arrival) FairOrder serves before a new job of `owner`.
    public static int JobsBefore(IReadOnlyList<string> owners, string owner)
    {
        int round = owners.Count(o => o == owner); // the new job's round
        return owners.GroupBy(o => o).Sum(g => g.Key == owner ? g.Count() : Math.Min(g.Count(), round + 1));
    }

    /// Waits for the job's turn; the tracker counts it in the backlog from when it started.
    public async Task<RequestBacklog.Tracker> WaitTurn(string owner, IReadOnlyList<CascadeStage> stages, double affordableSeconds, CancellationToken cancellation)
    {
        var waiter = new Waiter(owner, stages, affordableSeconds, new(TaskCreationOptions.RunContinuationsAsynchronously));
        LinkedListNode<Waiter> node;
        lock (_gate) node = _queue.AddLast(waiter);
        using (cancellation.Register(() =>
        {
            lock (_gate)
            {
                if (node.List is null) return; // already started
                _queue.Remove(node);
            }
            waiter.Turn.TrySetCanceled(cancellation);
        }))
        {
            var tracker = await waiter.Turn.Task;
            if (!cancellation.IsCancellationRequested) return tracker;
            tracker.Dispose();
            throw new OperationCanceledException(cancellation);
        }
    }

    async Task Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Poll, _stop.Token);
                if (Count == 0) continue;
                var round = await _router.DescribeAll(recent: true);
                lock (_gate)
                {
                    var nodes = new List<LinkedListNode<Waiter>>();
                    for (var node = _queue.First; node is not null; node = node.Next) nodes.Add(node);
                    foreach (var i in FairOrder(nodes.Select(n => n.Value.Owner).ToList()))
                    {
                        var node = nodes[i];
                        if (Check(node.Value.Stages, round, node.Value.AffordableSeconds) is not null) continue;
                        _queue.Remove(node);
                        node.Value.Turn.TrySetResult(_backlog.Track(node.Value.Stages));
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // A round that could not be read: the queue waits for the next.
            }
        }
    }

    public void Dispose() => _stop.Cancel();
}
