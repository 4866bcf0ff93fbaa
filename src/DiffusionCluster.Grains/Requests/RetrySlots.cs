namespace DiffusionCluster.Grains.Requests;

/// When requests refused at admission should come back, per silo: at the earliest time admission gives, plus a random
/// share of as many slots (the bottleneck stage's time per request over its hosts) as requests were refused lately,
/// so a crowd refused together returns spread out at about the rate room appears rather than all at once. The crowd
/// is an exponentially decaying count (half-life 10 s), so a burst long past spreads nothing. At most two minutes:
/// further ahead the estimate says little, and a client asking again gets a fresh one. A silo singleton.
public sealed class RetrySlots
{
    public const double MaxSeconds = 120;
    const double HalfLifeSeconds = 10;

    readonly object _gate = new();
    double _refused;
    DateTimeOffset _counted = DateTimeOffset.MinValue;

    /// Seconds until the refused request should come back. spread: a number in [0, 1) (random in use).
    public double Next(double earliestSeconds, double slotSeconds, DateTimeOffset now, double spread)
    {
        lock (_gate)
        {
            var elapsed = _counted == DateTimeOffset.MinValue ? 0 : (now - _counted).TotalSeconds;
            _refused = _refused * Math.Pow(0.5, Math.Max(0, elapsed) / HalfLifeSeconds) + 1;
            _counted = now;
            return Math.Min(MaxSeconds, earliestSeconds + spread * _refused * slotSeconds);
        }
    }
}
