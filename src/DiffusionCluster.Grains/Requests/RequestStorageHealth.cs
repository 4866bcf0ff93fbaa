namespace DiffusionCluster.Grains.Requests;

/// This silo's view of request storage, for readiness: degraded while its latest read or write failed (within the
/// last few minutes: a silo with no traffic has nothing newer to go by).
public sealed class RequestStorageHealth(TimeProvider clock)
{
    static readonly TimeSpan Memory = TimeSpan.FromMinutes(5);

    readonly object _gate = new();
    DateTimeOffset? _failingSince, _lastFailure;

    public RequestStorageHealth() : this(TimeProvider.System) { }

    public void Succeeded()
    {
        lock (_gate) _failingSince = null;
    }

    public void Failed()
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            _failingSince ??= now;
            _lastFailure = now;
        }
    }

    /// What an operator should know, or null when storage answers.
    public string? Degraded
    {
        get
        {
            var now = clock.GetUtcNow();
            lock (_gate)
            {
                if (_failingSince is not { } since || now - _lastFailure > Memory) return null;
                return $"request storage failing for {(now - since).TotalSeconds:0} s: requests run from memory and do not survive the loss of their silo until it answers";
            }
        }
    }
}
