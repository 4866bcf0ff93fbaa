using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffusionCluster.Grains.Capacity;

/// Measured compute time of one batch at one batch size, and the networks' floating-point work in it (GFLOP,
/// NetworkFlops' count; absent from profiles written without it).
public sealed record BatchTiming(int BatchSize, double Seconds, double? Gflop = null)
{
    /// The rate the batch's work ran at, when its work was counted.
    [JsonIgnore]
    public double? GflopsPerSecond => Gflop / Seconds;
}

/// What `bench stages` measured for one stage on one device.
public sealed record StageTimings(string Stage, int Steps, IReadOnlyList<BatchTiming> Batches)
{
    /// The time of a batch of this size: measured, or linear between the measured sizes around it; below the
    /// smallest measured size, that size's time (a smaller batch is not assumed cheaper than measured); beyond the
    /// largest, its time per request times the size.
    public double Seconds(int batchSize)
    {
        var sorted = Batches.OrderBy(b => b.BatchSize).ToList();
        if (batchSize <= sorted[0].BatchSize) return sorted[0].Seconds;
        if (batchSize > sorted[^1].BatchSize) return sorted[^1].Seconds * batchSize / sorted[^1].BatchSize;
        var above = sorted.First(b => b.BatchSize >= batchSize);
        var below = sorted.Last(b => b.BatchSize <= batchSize);
        if (above.BatchSize == below.BatchSize) return above.Seconds;
        return below.Seconds + (above.Seconds - below.Seconds) * (batchSize - below.BatchSize) / (above.BatchSize - below.BatchSize);
    }
}

/// A device's stage profile: the input to `plan`. PeakGflops: the device's measured rate (ComputePeak) that the
/// batches' achieved rates are read against; Kernels: which CPU kernels computed them (TorchRuntime.Describe).
public sealed record StageProfile(string Device, string Machine, string Model, int Size, IReadOnlyList<StageTimings> Stages, double? PeakGflops = null,
    string? Kernels = null)
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    /// The same profile with every batch taking `factor` times as long: the same cluster shape (Little's law keeps
    /// the replicas of rate x time) at 1/factor of the request rate, for simulating a large cluster on a machine whose
    /// cores cannot carry the orchestration of the full rate.
    public StageProfile Slowed(double factor) => this with
    {
        Machine = $"{Machine}, every batch time x {factor:0.##}",
        Stages = Stages.Select(s => s with { Batches = s.Batches.Select(b => b with { Seconds = b.Seconds * factor }).ToList() }).ToList(),
    };

    public static StageProfile Read(string file)
    {
        var profile = JsonSerializer.Deserialize<StageProfile>(File.ReadAllText(file), Json)
            ?? throw new ArgumentException($"{file} is empty; write a profile with `bench stages --out {file}`");
        foreach (var stage in profile.Stages)
            if (stage.Batches.Count == 0 || stage.Batches.Any(b => b.BatchSize < 1 || !(b.Seconds > 0)))
                throw new ArgumentException($"{file}: stage {stage.Stage} needs at least one timing with batch size >= 1 and seconds > 0");
        return profile;
    }
}
