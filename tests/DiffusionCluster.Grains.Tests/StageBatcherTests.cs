using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Batching;

namespace DiffusionCluster.Grains.Tests;

/// The batcher on its own, with a compute function the test controls.
public sealed class StageBatcherTests
{
    sealed class Gate
    {
        public readonly ManualResetEventSlim Open = new(false);
        public readonly List<int> BatchSizes = [];

        public IReadOnlyList<string> Compute(IReadOnlyList<string> inputs, Diffusion.StepProgress progress, CancellationToken cancellation)
        {
            lock (BatchSizes) BatchSizes.Add(inputs.Count);
            Open.Wait(TimeSpan.FromSeconds(30));
            return inputs.Select(i => i.ToUpperInvariant()).ToList();
        }
    }

    static BatchingOptions Options(int batch, double delayMs, int queue) =>
        new() { MaxBatchSize = batch, MaxQueueDelayMilliseconds = delayMs, MaxQueueLength = queue };

    [Fact]
    public async Task Only_requests_with_the_same_key_share_a_batch()
    {
        var gate = new Gate();
        gate.Open.Set();
        using var batcher = new StageBatcher<string, string>("test", Options(8, 200, 16), gate.Compute);

        var results = await Task.WhenAll(
            batcher.Enqueue("a", "k1"), batcher.Enqueue("b", "k2"), batcher.Enqueue("c", "k1"));

        Assert.Equal(["A", "B", "C"], results.Select(r => r.Output));
        Assert.Equal([2, 1, 2], results.Select(r => r.BatchSize));
    }

    [Fact]
    public async Task Each_request_in_a_batch_hears_every_step_with_its_own_row_of_the_estimate()
    {
        // The batch's estimate holds each input's position as its row's value.
        using var batcher = new StageBatcher<string, string>("test", Options(3, 200, 3), (inputs, progress, _) =>
        {
            for (int step = 1; step <= 2; step++)
            {
                using var estimate = TorchSharp.torch.arange(inputs.Count).view(inputs.Count, 1, 1, 1);
                progress(step, 2, () => estimate);
            }
            return inputs;
        });
        var heard = new[] { "a", "b", "c" }.ToDictionary(i => i, _ => new List<(int Step, long Row, long Rows)>());

        var results = await Task.WhenAll(heard.Select(h => batcher.Enqueue(h.Key, "k",
            (step, _, estimate) => h.Value.Add((step, estimate!().sum().item<long>(), estimate().shape[0])))));

        Assert.All(results, r => Assert.Equal(3, r.BatchSize));
        Assert.Equal([(1, 0, 1), (2, 0, 1)], heard["a"]);
        Assert.Equal([(1, 1, 1), (2, 1, 1)], heard["b"]);
        Assert.Equal([(1, 2, 1), (2, 2, 1)], heard["c"]);
    }

    [Fact]
    public async Task By_default_a_lone_request_starts_at_once_and_those_arriving_meanwhile_form_the_next_batch()
    {
        var gate = new Gate();
        using var batcher = new StageBatcher<string, string>("test", new BatchingOptions(), gate.Compute);

        var first = batcher.Enqueue("a", "k");
        // The first request runs alone (no one else queued, no delay to wait for company) while the gate holds it.
        while (gate.BatchSizes.Count == 0) await Task.Delay(1);
        var later = new[] { batcher.Enqueue("b", "k"), batcher.Enqueue("c", "k") };
        gate.Open.Set();
        var results = await Task.WhenAll([first, .. later]);

        Assert.Equal(0, new BatchingOptions().MaxQueueDelayMilliseconds);
        Assert.Equal([1, 2], gate.BatchSizes);
        Assert.Equal([1, 2, 2], results.Select(r => r.BatchSize));
    }

    [Fact]
    public async Task A_full_queue_rejects_at_once_and_names_the_limit()
    {
        var gate = new Gate();
        using var batcher = new StageBatcher<string, string>("sr1024", Options(1, 0, 2), gate.Compute);
        var running = batcher.Enqueue("a", "k");
        while (gate.BatchSizes.Count == 0) await Task.Delay(1);
        var queued = new[] { batcher.Enqueue("b", "k"), batcher.Enqueue("c", "k") };

        var error = await Assert.ThrowsAsync<StageOverloadedException>(() => batcher.Enqueue("d", "k"));
        gate.Open.Set();
        await Task.WhenAll(queued.Append(running));

        Assert.Equal("stage sr1024 is overloaded: 2 requests queued, the limit is 2; retry later or add replicas of this stage", error.Message);
        Assert.Equal(0, batcher.Load);
    }

    [Fact]
    public async Task Retry_after_is_the_time_the_requests_ahead_take_at_the_measured_service_time()
    {
        // 1.5 s per request, one request per batch: a first request measures it.
        using var batcher = new StageBatcher<string, string>("test", Options(1, 0, 3), (inputs, _, _) =>
        {
            Thread.Sleep(1500);
            return inputs;
        });
        await batcher.Enqueue("measure", "k");
        var running = batcher.Enqueue("running", "k");
        await Task.Delay(300); // taken off the queue by the batcher's thread
        var ahead = Enumerable.Range(0, 3).Select(i => batcher.Enqueue($"queued {i}", "k")).Append(running).ToList();

        var error = await Assert.ThrowsAsync<StageOverloadedException>(() => batcher.Enqueue("late", "k"));
        await Task.WhenAll(ahead);

        // Four requests ahead at about 1.5 s each: 6 s (rounded up; slack for a slow machine's sleeps).
        Assert.InRange(error.RetryAfterSeconds, 6, 8);
    }

    [Fact]
    public async Task A_request_that_may_wait_is_held_until_the_queue_has_room_and_a_cancelled_one_leaves()
    {
        var gate = new Gate();
        using var batcher = new StageBatcher<string, string>("test", Options(1, 0, 1), gate.Compute);
        var running = batcher.Enqueue("a", "k");
        while (gate.BatchSizes.Count == 0) await Task.Delay(1);
        var queued = batcher.Enqueue("b", "k");
        using var leave = new CancellationTokenSource();
        var waiting = batcher.Enqueue("c", "k", waitForRoom: true);
        var cancelled = batcher.Enqueue("d", "k", cancellation: leave.Token, waitForRoom: true);
        await Task.Delay(100);
        Assert.Equal(4, batcher.Load);
        Assert.False(waiting.IsCompleted);

        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        gate.Open.Set();
        var results = await Task.WhenAll(running, queued, waiting);

        Assert.Equal(["A", "B", "C"], results.Select(r => r.Output));
        Assert.Equal(0, batcher.Load);
    }

    [Fact]
    public async Task Seconds_per_request_counts_a_first_batch_before_it_ends_then_the_measured_mean()
    {
        var gate = new Gate();
        using var batcher = new StageBatcher<string, string>("test", Options(2, 0, 4), gate.Compute);
        Assert.Null(batcher.SecondsPerRequest);

        var running = batcher.Enqueue("a", "k");
        while (gate.BatchSizes.Count == 0) await Task.Delay(1);
        await Task.Delay(600);
        var whileRunning = batcher.SecondsPerRequest;
        gate.Open.Set();
        await running;

        // One request running for 0.6 s (timers may fire a little early) costs at least that much; once it ends,
        // its measured time stays.
        Assert.InRange(whileRunning!.Value, 0.5, 5);
        Assert.InRange(batcher.SecondsPerRequest!.Value, whileRunning.Value, 5);
    }

    [Fact]
    public async Task Queue_wait_and_compute_time_are_measured_separately()
    {
        var gate = new Gate();
        using var batcher = new StageBatcher<string, string>("test", Options(1, 0, 4), gate.Compute);
        var first = batcher.Enqueue("a", "k");
        var second = batcher.Enqueue("b", "k");
        await Task.Delay(300);
        gate.Open.Set();

        var (a, b) = (await first, await second);

        Assert.True(a.ComputeMilliseconds >= 250, $"compute {a.ComputeMilliseconds} ms");
        Assert.True(a.QueueMilliseconds < 250, $"queue {a.QueueMilliseconds} ms");
        Assert.True(b.QueueMilliseconds >= 250, $"second request queued {b.QueueMilliseconds} ms behind the first");
    }

    [Fact]
    public async Task A_request_cancelled_while_queued_leaves_the_queue_without_running()
    {
        var gate = new Gate();
        using var batcher = new StageBatcher<string, string>("test", Options(1, 0, 4), gate.Compute);
        var running = batcher.Enqueue("a", "k");
        while (gate.BatchSizes.Count == 0) await Task.Delay(1);
        using var cancel = new CancellationTokenSource();
        var queued = batcher.Enqueue("b", "k", cancellation: cancel.Token);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        gate.Open.Set();
        await running;

        Assert.Equal([1], gate.BatchSizes);
    }
}
