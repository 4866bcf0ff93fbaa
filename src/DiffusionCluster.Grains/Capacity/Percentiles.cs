namespace DiffusionCluster.Grains.Capacity;

/// The 50th, 95th and 99th percentiles of a set of values (nearest rank).
public sealed record Percentiles(double P50, double P95, double P99)
{
    public static Percentiles Of(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return new Percentiles(0, 0, 0);
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new Percentiles(At(0.5), At(0.95), At(0.99));
    }
}
