namespace DiffusionCluster.Grains.Capacity;

/// One stage's pool as the simulation runs it: replicas, the batcher's limits and the measured batch times.
public sealed record SimulatedPool(string Stage, int Replicas, int BatchSize, double MaxQueueDelaySeconds, StageTimings Timings);

/// A kind of request (an image size): its share of the arrivals and the stages it runs, in order.
public sealed record RequestClass(string Name, double Share, IReadOnlyList<string> Stages);

/// What a pool did in the simulation: busy share of its replicas' time, the mean batch it ran, and each
/// request's time there (queue and compute): mean and percentiles.
public sealed record PoolOutcome(string Stage, double Utilisation, double MeanBatch, double MeanStageSeconds, Percentiles StageSeconds);

public sealed record SimulationOutcome(IReadOnlyDictionary<string, PoolOutcome> Pools, IReadOnlyDictionary<string, Percentiles> EndToEndSecondsByClass);

/// A discrete-event simulation of the cascade's pools under open-loop Poisson arrivals, run the way the cluster
/// runs them: each request goes to the least-loaded replica of its stage (queued plus running, ties at random:
/// StageRouter), and each replica runs one batch at a time by StageBatcher's rule (start when MaxBatchSize
/// requests wait or the oldest has waited MaxQueueDelay; take up to MaxBatchSize). Batch times come from the
/// measured profile (StageTimings.Seconds), so the batches the pool really forms, not full ones, set its
/// utilisation and latency. Deterministic for a seed. The first tenth of the requests warm the pools up and are
/// left out of the figures.
public static class CascadeSimulation
{
    enum Kind { Arrive, Timer, Complete }

    sealed class Replica
    {
        public readonly Queue<(int Request, double Enqueued)> Queue = new();
        public List<(int Request, double Enqueued)>? Running;
        public double TimerAt = double.NaN;
    }

    public static SimulationOutcome Run(IReadOnlyList<SimulatedPool> pools, IReadOnlyList<RequestClass> classes, double ratePerSecond,
        int requests = 20_000, int seed = 1)
    {
        if (!(ratePerSecond > 0)) throw new ArgumentException($"rate = {ratePerSecond}; give a rate above 0");
        if (requests < 10) throw new ArgumentException($"requests = {requests}; simulate at least 10");
        var poolIndex = pools.Select((p, i) => (p.Stage, i)).ToDictionary(x => x.Stage, x => x.i);
        var routes = classes.Select(c => c.Stages.Select(s => poolIndex.TryGetValue(s, out var i) ? i
            : throw new ArgumentException($"request class {c.Name} runs stage {s}, which no simulated pool hosts")).ToArray()).ToArray();
        var replicas = pools.Select(p => Enumerable.Range(0, Math.Max(1, p.Replicas)).Select(_ => new Replica()).ToArray()).ToArray();
        var random = new Random(seed);
        var events = new PriorityQueue<(Kind Kind, int Pool, int Index), (double Time, long Order)>();
        long order = 0;
        void Schedule(double time, Kind kind, int pool, int index) => events.Enqueue((kind, pool, index), (time, order++));

        // Arrivals: exponential gaps, each request's class drawn by share.
        double totalShare = classes.Sum(c => c.Share);
        var requestClass = new int[requests];
        var arrived = new double[requests];
        var stageIndex = new int[requests];
        var enteredStage = new double[requests];
        double clock = 0;
        for (int r = 0; r < requests; r++)
        {
            clock += -Math.Log(1 - random.NextDouble()) / ratePerSecond;
            double pick = random.NextDouble() * totalShare;
            int c = 0;
            while (c < classes.Count - 1 && (pick -= classes[c].Share) >= 0) c++;
            requestClass[r] = c;
            arrived[r] = clock;
        }
        int warm = requests / 10;
        double measureFrom = arrived[warm], measureTo = arrived[^1];
        var busySeconds = new double[pools.Count];
        var batches = new List<int>[pools.Count];
        var stageSeconds = new List<double>[pools.Count];
        for (int p = 0; p < pools.Count; p++) { batches[p] = []; stageSeconds[p] = []; }
        var endToEnd = classes.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < requests; r++) Schedule(arrived[r], Kind.Arrive, routes[requestClass[r]][0], r);

        void TryStart(int p, int k, double now)
        {
            var pool = pools[p];
            var replica = replicas[p][k];
            if (replica.Running is not null || replica.Queue.Count == 0) return;
            double due = replica.Queue.Peek().Enqueued + pool.MaxQueueDelaySeconds;
            if (replica.Queue.Count < pool.BatchSize && now < due - 1e-12)
            {
                if (replica.TimerAt != due) { replica.TimerAt = due; Schedule(due, Kind.Timer, p, k); }
                return;
            }
            var batch = new List<(int, double)>();
            while (batch.Count < pool.BatchSize && replica.Queue.Count > 0) batch.Add(replica.Queue.Dequeue());
            replica.Running = batch;
            double seconds = pool.Timings.Seconds(batch.Count);
            if (now >= measureFrom && now < measureTo)
            {
                busySeconds[p] += Math.Min(seconds, measureTo - now);
                batches[p].Add(batch.Count);
            }
            Schedule(now + seconds, Kind.Complete, p, k);
        }

        while (events.TryDequeue(out var e, out var at))
        {
            double now = at.Time;
            switch (e.Kind)
            {
                case Kind.Arrive:
                {
                    var pool = replicas[e.Pool];
                    // Least loaded, ties at random (reservoir choice over the tied replicas).
                    int best = 0, ties = 0, bestLoad = int.MaxValue;
                    for (int k = 0; k < pool.Length; k++)
                    {
                        int load = pool[k].Queue.Count + (pool[k].Running?.Count ?? 0);
                        if (load < bestLoad) { bestLoad = load; best = k; ties = 1; }
                        else if (load == bestLoad && random.Next(++ties) == 0) best = k;
                    }
                    enteredStage[e.Index] = now;
                    pool[best].Queue.Enqueue((e.Index, now));
                    TryStart(e.Pool, best, now);
                    break;
                }
                case Kind.Timer:
                    if (replicas[e.Pool][e.Index].TimerAt == now) replicas[e.Pool][e.Index].TimerAt = double.NaN;
                    TryStart(e.Pool, e.Index, now);
                    break;
                case Kind.Complete:
                {
                    var replica = replicas[e.Pool][e.Index];
                    foreach (var (r, _) in replica.Running!)
                    {
                        if (r >= warm) stageSeconds[e.Pool].Add(now - enteredStage[r]);
                        var route = routes[requestClass[r]];
                        if (++stageIndex[r] < route.Length) Schedule(now, Kind.Arrive, route[stageIndex[r]], r);
                        else if (r >= warm) endToEnd[requestClass[r]].Add(now - arrived[r]);
                    }
                    replica.Running = null;
                    TryStart(e.Pool, e.Index, now);
                    break;
                }
            }
        }

        double window = Math.Max(measureTo - measureFrom, 1e-9);
        var outcomes = pools.Select((pool, p) => new PoolOutcome(pool.Stage, busySeconds[p] / (window * replicas[p].Length),
            batches[p].Count > 0 ? batches[p].Average() : 0, stageSeconds[p].Count > 0 ? stageSeconds[p].Average() : 0, Percentiles.Of(stageSeconds[p]))).ToDictionary(o => o.Stage);
        return new SimulationOutcome(outcomes, classes.Select((c, i) => (c.Name, Percentiles.Of(endToEnd[i]))).ToDictionary(x => x.Name, x => x.Item2));
    }
}
