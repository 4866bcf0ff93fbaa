using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Tests;

/// Concurrent requests share batches; requests that meet a full queue wait for room; nothing is lost.
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
        // A batch runs the same maths with other floating-point summation orders, so pixels agree to one 8-bit level.
        using var image = DiffusionCluster.Models.Imaging.Png.Decode(alone.Png);
        using var inBatch = DiffusionCluster.Models.Imaging.Png.Decode(batched[1].Png);
        float largest = (image - inBatch).abs().max().item<float>();
        Assert.True(largest <= 2.0 / 255 + 1e-6, $"pixels differ by up to {largest * 127.5:F1} levels ({DiffusionCluster.Diffusion.TorchRuntime.Describe()})");
        Assert.Equal(DiffusionCluster.Models.Imaging.Png.Parameters(alone.Png), DiffusionCluster.Models.Imaging.Png.Parameters(batched[1].Png));
    }

    [Fact]
    public async Task Admitted_requests_that_meet_a_full_queue_wait_for_room_and_all_complete()
    {
        await using var cluster = await StageCluster.Start(["all"], new()
        {
            ["Silo:DefaultBatching:MaxBatchSize"] = "1",
            ["Silo:DefaultBatching:MaxQueueDelayMilliseconds"] = "0",
            ["Silo:DefaultBatching:MaxQueueLength"] = "1",
        });
        var slow = Specs.Quick() with { Decoder64 = new SamplingOptions(150, 2.0, "none") };

        // One request first, so admission has measured decoder64 (before that it admits no more than the queues hold).
        await cluster.Request().Generate(slow with { Seed = 100 });
        // Six requests at once against a decoder64 that runs one and queues one: four meet a full queue at first.
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => cluster.Request().Generate(slow with { Seed = (ulong)i })));

        Assert.All(results, r => Assert.NotEmpty(r.Png));
        Assert.Equal(6, results.Select(r => r.Png).Distinct(new BytesComparer()).Count());
    }

    sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] bytes) => bytes.Length;
    }
}
