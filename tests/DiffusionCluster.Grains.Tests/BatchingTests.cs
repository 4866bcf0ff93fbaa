using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Tests;

/// Concurrent requests share batches; a full queue rejects with a clear overload error; nothing is lost.
public sealed class BatchingTests
{
    [Fact]
    public async Task Concurrent_requests_with_the_same_options_run_as_one_batch()
    {
        await using var cluster = await StageCluster.Start(["all"], new()
        {
            ["Silo:DefaultBatching:MaxBatchSize"] = "4",
            ["Silo:DefaultBatching:MaxQueueDelayMilliseconds"] = "5000",
        });

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => cluster.Request().Generate(Specs.Quick(seed: (ulong)i))));

        foreach (var result in results)
            Assert.All(result.Stages, run => Assert.Equal(4, run.BatchSize));
        // Compute is shared, queue wait is each request's own.
        Assert.Single(results.Select(r => r.Stages[2].ComputeMilliseconds).Distinct());
    }

    [Fact]
    public async Task A_request_gets_the_same_image_alone_or_in_a_batch()
    {
        await using var cluster = await StageCluster.Start(["all"], new()
        {
            ["Silo:DefaultBatching:MaxBatchSize"] = "3",
            ["Silo:DefaultBatching:MaxQueueDelayMilliseconds"] = "5000",
        });
        var batched = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => cluster.Request().Generate(Specs.Quick(seed: (ulong)i + 10))));

        await using var single = await StageCluster.Start(["all"], new() { ["Silo:DefaultBatching:MaxBatchSize"] = "1" });
        var alone = await single.Request().Generate(Specs.Quick(seed: 11));

        Assert.Equal(1, alone.Stages[2].BatchSize);
        Assert.Equal(alone.Png, batched[1].Png);
    }

    [Fact]
    public async Task A_full_queue_rejects_with_an_overload_error_and_every_request_ends()
    {
        await using var cluster = await StageCluster.Start(["all"], new()
        {
            ["Silo:DefaultBatching:MaxBatchSize"] = "1",
            ["Silo:DefaultBatching:MaxQueueDelayMilliseconds"] = "0",
            ["Silo:DefaultBatching:MaxQueueLength"] = "1",
        });
        var slow = Specs.Quick() with { Decoder64 = new SamplingOptions(150, 2.0, "none") };

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            try
            {
                await cluster.Request().Generate(slow with { Seed = (ulong)i });
                return "completed";
            }
            catch (StageOverloadedException e)
            {
                Assert.Contains("overloaded", e.Message);
                // Refused by the stage's queue itself, or earlier at admission (a stage full on its only host).
                Assert.Matches("the limit is 1|queue full on all 1 of its hosts", e.Message);
                Assert.True(e.RetryAfterSeconds >= 1);
                return "overloaded";
            }
        }));

        Assert.Contains("completed", outcomes);
        Assert.Contains("overloaded", outcomes);
    }
}
