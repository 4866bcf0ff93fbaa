using System.Globalization;
using System.Text;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Capacity;

/// One stage's recommendation, with the numbers it came from.
public sealed record StagePlan(
    string Stage, int BatchSize, double BatchSeconds, double ImagesPerSecondPerReplica, double BusyReplicas,
    int Replicas, double Utilisation, double MaxQueueDelayMilliseconds, int MaxQueueLength, string Arithmetic);

/// Replicas and batching limits per stage for a target rate, from measured service times.
/// For each stage and each measured batch size b with batch time t(b), a replica serves b / t(b) images per
/// second. The planner takes the b with the highest rate. By Little's law the replicas busy at rate R are
/// R * t(b) / b (requests in service = arrival rate x time in service, b requests share a batch); dividing by
/// the target utilisation leaves headroom for queueing, and the result is rounded up.
/// MaxQueueDelay is the time one replica takes to receive b - 1 more requests at its share of R (capped at
/// half a batch time, so waiting never costs more than half the compute it saves, and at the batcher's limit,
/// BatchingOptions.MaxQueueDelayLimitMilliseconds); the queue holds four batches.
public static class CapacityPlanner
{
    /// cascade: the model's stages, of which a request of this size runs a prefix.
    public static IReadOnlyList<StagePlan> Plan(StageProfile profile, CascadeDefinition cascade, double targetImagesPerSecond, int size, double utilisation)
    {
        if (!(targetImagesPerSecond > 0)) throw new ArgumentException($"target = {targetImagesPerSecond} images/s; give a rate above 0");
        if (!(utilisation > 0 && utilisation <= 1)) throw new ArgumentException($"utilisation = {utilisation}; allowed above 0 up to 1");
        var plans = new List<StagePlan>();
        foreach (var stage in cascade.For(size).Select(s => s.Stage))
        {
            var timings = profile.Stages.FirstOrDefault(s => s.Stage == stage.Name())
                ?? throw new ArgumentException($"the profile has no timings for stage {stage.Name()}, which {size} px images need; re-run `bench stages --size {size}`");
            var best = timings.Batches.OrderByDescending(b => b.BatchSize / b.Seconds).ThenBy(b => b.BatchSize).First();
            double rate = best.BatchSize / best.Seconds;
            double busy = targetImagesPerSecond * best.Seconds / best.BatchSize;
            int replicas = Math.Max(1, (int)Math.Ceiling(busy / utilisation - 1e-9));
            double perReplicaArrivals = targetImagesPerSecond / replicas;
            double delayMs = best.BatchSize == 1 ? 0
                : Math.Min(Math.Min(1000.0 * (best.BatchSize - 1) / perReplicaArrivals, 500.0 * best.Seconds), Batching.BatchingOptions.MaxQueueDelayLimitMilliseconds);
            int queue = 4 * best.BatchSize;
            var arithmetic = string.Create(CultureInfo.InvariantCulture,
                $"{stage.Name()}: batch {best.BatchSize} takes {best.Seconds:0.###} s -> {rate:0.###} img/s per replica; " +
                $"busy replicas = {targetImagesPerSecond:0.###} x {best.Seconds:0.###} / {best.BatchSize} = {busy:0.###}; " +
                $"replicas = ceil({busy:0.###} / {utilisation:0.##}) = {replicas} (utilisation {busy / replicas:P0}); " +
                $"max queue delay = min(({best.BatchSize} - 1) / ({targetImagesPerSecond:0.###} / {replicas}), {best.Seconds:0.###} / 2, " +
                $"{Batching.BatchingOptions.MaxQueueDelayLimitMilliseconds / 1000:0} s) = {delayMs:0} ms");
            plans.Add(new StagePlan(stage.Name(), best.BatchSize, best.Seconds, rate, busy, replicas, busy / replicas, delayMs, queue, arithmetic));
        }
        return plans;
    }

    /// The plan as values for the Helm chart's per-stage pools.
    public static string HelmValues(IReadOnlyList<StagePlan> plans, string comment)
    {
        var yaml = new StringBuilder();
        yaml.AppendLine($"# {comment}");
        yaml.AppendLine("pools:");
        foreach (var p in plans)
        {
            yaml.AppendLine($"  {p.Stage}:");
            yaml.AppendLine($"    replicas: {p.Replicas}");
            yaml.AppendLine("    batching:");
            yaml.AppendLine($"      maxBatchSize: {p.BatchSize}");
            yaml.AppendLine(string.Create(CultureInfo.InvariantCulture, $"      maxQueueDelayMilliseconds: {Math.Ceiling(p.MaxQueueDelayMilliseconds)}"));
            yaml.AppendLine($"      maxQueueLength: {p.MaxQueueLength}");
        }
        return yaml.ToString();
    }
}
