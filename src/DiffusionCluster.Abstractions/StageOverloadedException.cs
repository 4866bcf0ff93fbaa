namespace DiffusionCluster.Abstractions;

/// A stage's bounded queue is full, or admission found more work ahead than a request can wait for. Carries a retry
/// hint so the HTTP edge can answer 429 with Retry-After. SlotSeconds: admission's time per request at the stage
/// that refused (its time per request over its hosts), by which refused requests' returns are spaced.
/// Unmeasured: admission refused because the stage's queues are full before its service time is measured.
[GenerateSerializer, Alias("DiffusionCluster.StageOverloadedException")]
public sealed class StageOverloadedException(string message, double retryAfterSeconds, double slotSeconds = 0, bool unmeasured = false) : Exception(message)
{
    [Id(0)] public double RetryAfterSeconds { get; } = retryAfterSeconds;
    [Id(1)] public double SlotSeconds { get; } = slotSeconds;
    [Id(2)] public bool Unmeasured { get; } = unmeasured;

    public StageOverloadedException WithRetryAfter(double seconds) => new(Message, seconds, SlotSeconds, Unmeasured);
}
