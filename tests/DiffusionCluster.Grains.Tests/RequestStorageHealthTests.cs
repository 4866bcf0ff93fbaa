using DiffusionCluster.Grains.Requests;

namespace DiffusionCluster.Grains.Tests;

/// Readiness learns from each silo whether its request storage answers.
public sealed class RequestStorageHealthTests
{
    sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Degraded_from_the_first_failure_until_an_operation_succeeds()
    {
        var clock = new Clock();
        var health = new RequestStorageHealth(clock);
        Assert.Null(health.Degraded);

        health.Failed();
        clock.Now += TimeSpan.FromSeconds(12);
        health.Failed();
        Assert.StartsWith("request storage failing for 12 s", health.Degraded);

        health.Succeeded();
        Assert.Null(health.Degraded);
    }

    [Fact]
    public void A_failure_long_past_with_nothing_since_is_no_longer_reported()
    {
        var clock = new Clock();
        var health = new RequestStorageHealth(clock);
        health.Failed();
        clock.Now += TimeSpan.FromMinutes(6);
        Assert.Null(health.Degraded);
    }
}
