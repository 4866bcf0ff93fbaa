using System.Globalization;
using System.Text;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Capacity;

/// One stage's recommendation, with the numbers it came from. BatchSeconds and ImagesPerSecondPerReplica are at full
/// batches (the profile); Utilisation, BusyReplicas, MeanBatch and StageSeconds are what the simulated pool did.
public sealed record StagePlan(
    string Stage, int BatchSize, double BatchSeconds, double ImagesPerSecondPerReplica, double BusyReplicas,
    int Replicas, double Utilisation, double MaxQueueDelayMilliseconds, int MaxQueueLength, double MeanBatch,
    Percentiles StageSeconds, string Arithmetic);

/// Replicas and batching limits per stage for a target rate, from measured batch times.
/// Little's law gives the fewest replicas a batch size b could ever do with: busy replicas = R * t(b) / b at full
/// batches. Batches are full only when requests queue, though: the router sends each request to the least-loaded
/// replica, so a replica that waits for company mostly waits alone, and a batch of one costs t(1), not t(b) / b.
/// So the planner simulates each pool (CascadeSimulation: Poisson arrivals at the stage's rate, the router's choice,
/// the batcher's rule) from that lower bound upwards, for each measured batch size b, with and without waiting for
/// company (MaxQueueDelay: the time one replica takes to receive b - 1 more requests at its share of R, capped at
/// half a batch time and at the batcher's limit, BatchingOptions.MaxQueueDelayLimitMilliseconds), and keeps the
/// fewest replicas whose simulated utilisation is at most the target (headroom for bursts), then the lowest p99
/// time in the stage, then the larger batch limit. The queue holds four batches.
public static class CapacityPlanner
{
    /// Requests per simulated pool: enough for a stable p99.
    const int SimulatedRequests = 20_000;

    /// cascade: the model's stages, of which a request of this size runs a prefix.
    public static IReadOnlyList<StagePlan> Plan(StageProfile profile, CascadeDefinition cascade, double targetImagesPerSecond, int size, double utilisation)
    {
        if (!(targetImagesPerSecond > 0)) throw new ArgumentException($"target = {targetImagesPerSecond} images/s; give a rate above 0");
        return cascade.For(size).Select(s => PlanStage(Timings(profile, s.Stage, size), targetImagesPerSecond, utilisation)).ToList();
    }

    /// The profile's timings for a stage, or an error that says how to measure them.
    public static StageTimings Timings(StageProfile profile, CascadeStage stage, int size) =>
        profile.Stages.FirstOrDefault(s => s.Stage == stage.Name())
        ?? throw new ArgumentException($"the profile has no timings for stage {stage.Name()}, which {size} px images need; re-run `bench stages --size {size}`");

    /// One stage's pool for the rate of requests that reach it.
    public static StagePlan PlanStage(StageTimings timings, double ratePerSecond, double utilisation)
    {
        if (!(ratePerSecond > 0)) throw new ArgumentException($"rate = {ratePerSecond} images/s at stage {timings.Stage}; give a rate above 0");
        if (!(utilisation > 0 && utilisation <= 1)) throw new ArgumentException($"utilisation = {utilisation}; allowed above 0 up to 1");
        (int Batch, int Replicas, double DelayMs, PoolOutcome Outcome, int FewestAtFullBatches)? chosen = null;
        foreach (var measured in timings.Batches.OrderBy(b => b.BatchSize))
        {
            int b = measured.BatchSize;
            int fewest = Math.Max(1, (int)Math.Ceiling(ratePerSecond * measured.Seconds / b / utilisation - 1e-9));
            // More replicas than this would each see too few requests to batch at all: batch 1 covers that case.
            int most = Math.Max(fewest, (int)Math.Ceiling(ratePerSecond * timings.Seconds(1) / utilisation)) + 1;
            for (int n = fewest; n <= most && (chosen is null || n <= chosen.Value.Replicas); n++)
            {
                var passing = Delays(b, n, ratePerSecond, measured.Seconds)
                    .Select(delayMs => (DelayMs: delayMs, Outcome: SimulatePool(timings, b, n, delayMs, ratePerSecond)))
                    .Where(c => c.Outcome.Utilisation <= utilisation)
                    .OrderBy(c => c.Outcome.StageSeconds.P99).ToList();
                if (passing.Count == 0) continue;
                var best = passing[0];
                // Sizes come smallest first: at the same replicas and p99, the larger batch limit wins (headroom for bursts).
                if (chosen is null || n < chosen.Value.Replicas || best.Outcome.StageSeconds.P99 <= chosen.Value.Outcome.StageSeconds.P99)
                    chosen = (b, n, best.DelayMs, best.Outcome, fewest);
                break;
            }
        }
        if (chosen is not { } c)
            throw new ArgumentException($"stage {timings.Stage}: no pool of its measured batch sizes stays under utilisation {utilisation:0.##} at {ratePerSecond} images/s");
        var full = timings.Batches.First(m => m.BatchSize == c.Batch);
        var arithmetic = string.Create(CultureInfo.InvariantCulture,
            $"{timings.Stage}: batch {c.Batch} takes {full.Seconds:0.###} s -> {c.Batch / full.Seconds:0.###} img/s per replica at full batches; " +
            $"fewest replicas at full batches = ceil({ratePerSecond:0.###} x {full.Seconds:0.###} / {c.Batch} / {utilisation:0.##}) = {c.FewestAtFullBatches}; " +
            $"simulated ({SimulatedRequests} Poisson arrivals, least-loaded routing, max queue delay {c.DelayMs:0} ms): replicas {c.Replicas}, batches of " +
            $"{c.Outcome.MeanBatch:0.##} on average, utilisation {c.Outcome.Utilisation:P0}, time in stage p50/p99 " +
            $"{c.Outcome.StageSeconds.P50:0.##}/{c.Outcome.StageSeconds.P99:0.##} s");
        return new StagePlan(timings.Stage, c.Batch, full.Seconds, c.Batch / full.Seconds, c.Outcome.Utilisation * c.Replicas, c.Replicas,
            c.Outcome.Utilisation, c.DelayMs, 4 * c.Batch, c.Outcome.MeanBatch, c.Outcome.StageSeconds, arithmetic);
    }

    /// Not waiting for company, and waiting as long as b - 1 more requests take to reach one of n replicas.
    static IEnumerable<double> Delays(int batch, int replicas, double ratePerSecond, double batchSeconds)
    {
        yield return 0;
        if (batch == 1) yield break;
        double perReplica = ratePerSecond / replicas;
        yield return Math.Min(Math.Min(1000.0 * (batch - 1) / perReplica, 500.0 * batchSeconds), Batching.BatchingOptions.MaxQueueDelayLimitMilliseconds);
    }

    /// One stage's pool simulated alone at the given size, batching and rate.
    public static PoolOutcome SimulatePool(StageTimings timings, int batch, int replicas, double delayMs, double ratePerSecond) =>
        CascadeSimulation.Run([new SimulatedPool(timings.Stage, replicas, batch, delayMs / 1000, timings)],
            [new RequestClass("all", 1, [timings.Stage])], ratePerSecond, SimulatedRequests).Pools[timings.Stage];

    /// The whole planned cascade simulated under the given mix of request kinds: each pool's behaviour and the
    /// end-to-end latency by kind, queueing and the batches the pools really form included.
    public static SimulationOutcome Predict(IReadOnlyList<StagePlan> plans, StageProfile profile, IReadOnlyList<RequestClass> classes, double ratePerSecond)
    {
        var pools = plans.Select(p => new SimulatedPool(p.Stage, p.Replicas, p.BatchSize, p.MaxQueueDelayMilliseconds / 1000,
            profile.Stages.First(s => s.Stage == p.Stage))).ToList();
        return CascadeSimulation.Run(pools, classes, ratePerSecond, SimulatedRequests * 2);
    }

    /// The plan as values for the Helm chart's pools: each pool's replicas, its stages where it hosts several (with
    /// the busiest stage's batching as the pool's and the others' as per-stage settings), and `null` for a default
    /// pool whose stage another pool now hosts.
    public static string HelmValues(IReadOnlyList<PoolPlan> pools, string comment)
    {
        static string Ms(double ms) => Math.Ceiling(ms).ToString(CultureInfo.InvariantCulture);
        var yaml = new StringBuilder();
        yaml.AppendLine($"# {comment}");
        yaml.AppendLine("pools:");
        var names = pools.Select(p => p.Name).ToHashSet();
        foreach (var folded in pools.SelectMany(p => p.Stages).Select(s => s.Stage).Where(s => !names.Contains(s)))
            yaml.AppendLine($"  {folded}: null");
        foreach (var pool in pools)
        {
            var main = pool.Stages.MaxBy(s => s.Utilisation)!;
            yaml.AppendLine($"  {pool.Name}:");
            if (pool.Stages.Count > 1 || pool.Name != main.Stage) yaml.AppendLine($"    stages: {string.Join(",", pool.Stages.Select(s => s.Stage))}");
            yaml.AppendLine($"    replicas: {pool.Replicas}");
            yaml.AppendLine("    batching:");
            yaml.AppendLine($"      maxBatchSize: {main.BatchSize}");
            yaml.AppendLine($"      maxQueueDelayMilliseconds: {Ms(main.MaxQueueDelayMilliseconds)}");
            yaml.AppendLine($"      maxQueueLength: {main.MaxQueueLength}");
            var others = pool.Stages.Where(s => s != main).ToList();
            if (others.Count == 0) continue;
            yaml.AppendLine("    extraEnv:");
            foreach (var s in others)
            {
                yaml.AppendLine($"      - {{ name: Silo__Batching__{s.Stage}__MaxBatchSize, value: \"{s.BatchSize}\" }}");
                yaml.AppendLine($"      - {{ name: Silo__Batching__{s.Stage}__MaxQueueDelayMilliseconds, value: \"{Ms(s.MaxQueueDelayMilliseconds)}\" }}");
                yaml.AppendLine($"      - {{ name: Silo__Batching__{s.Stage}__MaxQueueLength, value: \"{s.MaxQueueLength}\" }}");
            }
        }
        return yaml.ToString();
    }
}
