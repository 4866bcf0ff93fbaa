namespace DiffusionCluster.Abstractions;

/// A stage's bounded queue is full. Carries a retry hint so the HTTP edge can answer 429 with Retry-After.
[GenerateSerializer, Alias("DiffusionCluster.StageOverloadedException")]
public sealed class StageOverloadedException(string message, double retryAfterSeconds) : Exception(message)
{
    [Id(0)] public double RetryAfterSeconds { get; } = retryAfterSeconds;
}
