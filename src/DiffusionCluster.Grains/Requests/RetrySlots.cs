namespace DiffusionCluster.Grains.Requests;

/// When requests refused at admission should come back, per silo: a ledger of return times, one slot (the
/// bottleneck stage's time per request over its hosts) apart, so a crowd refused together comes back in turn, at
/// about the rate room appears, rather than all at once or all too soon. A refused request is booked the first free
/// slot at or after the earliest time admission gives; slots already passed are free again. At most an hour ahead
/// (the longest deadline a request may have): a client asking again then gets a fresh answer. A silo singleton.
public sealed class RetrySlots
{
    public const double MaxSeconds = 3600;

    readonly object _gate = new();
    DateTimeOffset _lastBooked = DateTimeOffset.MinValue;

    /// Seconds until the refused request should come back.
    public double Next(double earliestSeconds, double slotSeconds, DateTimeOffset now)
    {
        lock (_gate)
        {
            var earliest = now + TimeSpan.FromSeconds(Math.Max(0, earliestSeconds));
            var afterLast = _lastBooked == DateTimeOffset.MinValue ? earliest : _lastBooked + TimeSpan.FromSeconds(Math.Max(0, slotSeconds));
            var booked = afterLast > earliest ? afterLast : earliest;
            var seconds = (booked - now).TotalSeconds;
            if (seconds > MaxSeconds) return MaxSeconds;
            _lastBooked = booked;
            return seconds;
        }
    }
}
