namespace DiffusionCluster.Grains.Requests;

/// When requests refused at admission should come back, per silo: each refused request gets the next slot after the
/// ones already given, one slot (the bottleneck stage's time per request over its hosts) apart, so refused clients
/// return spread out at the rate the cluster frees room rather than all together. A silo singleton.
public sealed class RetrySlots
{
    readonly object _gate = new();
    DateTimeOffset _last = DateTimeOffset.MinValue;

    /// Seconds until the refused request's slot: at least earliestSeconds, and a slot after the last one given.
    public double Next(double earliestSeconds, double slotSeconds, DateTimeOffset now)
    {
        lock (_gate)
        {
            var due = now + TimeSpan.FromSeconds(earliestSeconds);
            var afterLast = _last + TimeSpan.FromSeconds(slotSeconds);
            if (afterLast > due) due = afterLast;
            _last = due;
            return (due - now).TotalSeconds;
        }
    }
}
