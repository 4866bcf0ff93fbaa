using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;

namespace DiffusionCluster.Grains.Batching;

/// What one request got out of a batch, with its own queue wait and the batch's compute time.
public sealed record BatchResult<TOut>(TOut Output, double QueueMilliseconds, double ComputeMilliseconds, int BatchSize);

/// Runs a batch: one output per input, in order. progress is called once per denoising step, its estimate (if any)
/// a row per input in the same order.
public delegate IReadOnlyList<TOut> BatchCompute<TIn, TOut>(IReadOnlyList<TIn> inputs, StepProgress progress, CancellationToken cancellation);

/// Dynamic batching for one stage: requests with the same batch key (same stage options and shapes) that
/// arrive within MaxQueueDelay of the oldest waiting one run together, up to MaxBatchSize. Compute runs on
/// one dedicated thread, never on Orleans' scheduler. The queue is bounded: a full queue rejects at once, or, for a
/// caller that asks to wait, holds it until the batcher takes from the queue (up to WaitingPerQueuePlace times the
/// queue's length may wait so; beyond that it rejects too).
public sealed class StageBatcher<TIn, TOut> : IDisposable
{
    sealed class Pending(TIn input, string key, StepProgress? progress, CancellationToken cancellation)
    {
        public TIn Input { get; } = input;
        public string Key { get; } = key;
        public StepProgress? Progress { get; } = progress;
        public CancellationToken Cancellation { get; } = cancellation;
        public long Enqueued { get; } = Stopwatch.GetTimestamp();
        public TaskCompletionSource<BatchResult<TOut>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// How many requests may wait for room per place in the queue: a bound on memory should admission misjudge.
    public const int WaitingPerQueuePlace = 16;

    readonly string _name;
    readonly BatchingOptions _options;
    readonly BatchCompute<TIn, TOut> _compute;
    readonly LinkedList<Pending> _queue = new();
    readonly object _gate = new();
    readonly Thread _thread;
    int _running;
    int _waiting;
    /// Completed (and replaced) each time the batcher takes from the queue, waking the requests waiting for room.
    TaskCompletionSource? _room;
    long _runningSince;
    bool _disposed;
    /// Measured compute seconds per request (a moving average over batches); null until a batch has run.
    double? _secondsPerRequest;

    public StageBatcher(string name, BatchingOptions options, BatchCompute<TIn, TOut> compute)
    {
        options.Validate(name);
        _name = name;
        _options = options;
        _compute = compute;
        _thread = new Thread(Loop) { IsBackground = true, Name = $"stage {name}" };
        _thread.Start();
    }

    /// Requests queued, waiting for room and in the running batch.
    public int Load
    {
        get { lock (_gate) return _queue.Count + _waiting + _running; }
    }

    /// The compute seconds one request costs here, for admission's estimate of the work ahead: the measured mean,
    /// raised to what the running batch has already taken (so a first, slow batch counts before it ends). Null
    /// before anything has run.
    public double? SecondsPerRequest
    {
        get
        {
            lock (_gate)
            {
                double? running = _running > 0 ? Stopwatch.GetElapsedTime(_runningSince).TotalSeconds / _running : null;
                return _secondsPerRequest is { } mean ? Math.Max(mean, running ?? 0) : running;
            }
        }
    }

    /// waitForRoom: a full queue holds the request until it has room (within the cancellation), instead of refusing it.
    /// progress hears the batch's steps, with its own row of each step's estimate.
    public async Task<BatchResult<TOut>> Enqueue(TIn input, string batchKey, StepProgress? progress = null, CancellationToken cancellation = default,
        bool waitForRoom = false)
    {
        cancellation.ThrowIfCancellationRequested();
        var pending = new Pending(input, batchKey, progress, cancellation);
        while (true)
        {
            Task room;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_queue.Count < _options.MaxQueueLength)
                {
                    _queue.AddLast(pending);
                    Monitor.PulseAll(_gate);
                    break;
                }
                if (!waitForRoom || _waiting >= WaitingPerQueuePlace * _options.MaxQueueLength)
                    throw new StageOverloadedException(
                        $"stage {_name} is overloaded: {_queue.Count} requests queued" + (waitForRoom ? $" and {_waiting} waiting" : "") +
                        $", the limit is {_options.MaxQueueLength}; retry later or add replicas of this stage",
                        RetryAfterSeconds());
                room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                _waiting++;
            }
            try
            {
                await room.WaitAsync(cancellation);
            }
            finally
            {
                lock (_gate) _waiting--;
            }
        }
        // A request cancelled while still queued leaves the queue at once; one already running is handled by the batch.
        cancellation.Register(() =>
        {
            bool removed;
            lock (_gate) removed = _queue.Remove(pending);
            if (removed) pending.Done.TrySetCanceled(cancellation);
        });
        return await pending.Done.Task;
    }

    /// When a rejected client should try again: the time the requests ahead of it take at the measured service time
    /// (at least 1 s, at most 10 min); 1 s before anything has been measured. Called under _gate.
    double RetryAfterSeconds() => _secondsPerRequest is { } perRequest
        ? Math.Clamp(Math.Ceiling((_queue.Count + _running) * perRequest), 1, 600)
        : 1;

    void Loop()
    {
        while (TakeBatch() is { } batch) Run(batch);
    }

    List<Pending>? TakeBatch()
    {
        lock (_gate)
        {
            while (true)
            {
                if (_disposed) return null;
                if (_queue.First is not { } first)
                {
                    Monitor.Wait(_gate);
                    continue;
                }
                var head = first.Value;
                int sameKey = _queue.Count(p => p.Key == head.Key);
                var waited = Stopwatch.GetElapsedTime(head.Enqueued).TotalMilliseconds;
                if (sameKey >= _options.MaxBatchSize || waited >= _options.MaxQueueDelayMilliseconds)
                {
                    var batch = _queue.Where(p => p.Key == head.Key).Take(_options.MaxBatchSize).ToList();
                    foreach (var p in batch) _queue.Remove(p);
                    _room?.TrySetResult();
                    _room = null;
                    _running = batch.Count;
                    _runningSince = Stopwatch.GetTimestamp();
                    return batch;
                }
                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Max(1, _options.MaxQueueDelayMilliseconds - waited)));
            }
        }
    }

    void Run(List<Pending> batch)
    {
        var started = Stopwatch.GetTimestamp();
        // The batch stops between denoising steps once every request in it is cancelled; a cancelled request
        // in a batch that goes on is answered at once, and its row's result is dropped.
        using var allCancelled = new CancellationTokenSource();
        int cancelled = 0;
        var registrations = batch.Select(p => p.Cancellation.Register(() =>
        {
            p.Done.TrySetCanceled(p.Cancellation);
            if (Interlocked.Increment(ref cancelled) == batch.Count) allCancelled.Cancel();
        })).ToList();
        try
        {
            var outputs = _compute(batch.Select(p => p.Input).ToList(), (step, total, estimate) =>
            {
                // Made once, by the first request that looks.
                TorchSharp.torch.Tensor? rows = null;
                TorchSharp.torch.Tensor Rows() => rows ??= estimate!() is var all && all.shape[0] == batch.Count ? all
                    : throw new InvalidOperationException($"stage {_name} reported an estimate of {all.shape[0]} rows for a batch of {batch.Count}");
                for (int i = 0; i < batch.Count; i++)
                {
                    int row = i;
                    batch[i].Progress?.Invoke(step, total, estimate is null ? null : () => Rows()[row..(row + 1)]);
                }
            }, allCancelled.Token);
            if (outputs.Count != batch.Count)
                throw new InvalidOperationException($"stage {_name} returned {outputs.Count} outputs for a batch of {batch.Count}");
            var computeMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            // Off the load before any caller hears back: a caller that sees its result sees the batch gone.
            lock (_gate)
            {
                _running = 0;
                var perRequest = computeMs / 1000 / batch.Count;
                _secondsPerRequest = _secondsPerRequest is { } mean ? 0.7 * mean + 0.3 * perRequest : perRequest;
            }
            for (int i = 0; i < batch.Count; i++)
            {
                var queueMs = (started - batch[i].Enqueued) * 1000.0 / Stopwatch.Frequency;
                batch[i].Done.TrySetResult(new BatchResult<TOut>(outputs[i], queueMs, computeMs, batch.Count));
            }
        }
        catch (OperationCanceledException)
        {
            lock (_gate) _running = 0;
            foreach (var p in batch) p.Done.TrySetCanceled();
        }
        catch (Exception e)
        {
            lock (_gate) _running = 0;
            foreach (var p in batch) p.Done.TrySetException(e);
        }
        finally
        {
            foreach (var r in registrations) r.Dispose();
        }
    }

    public void Dispose()
    {
        List<Pending> left;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            left = _queue.ToList();
            _queue.Clear();
            _room?.TrySetResult(); // the waiting requests then find the batcher disposed
            Monitor.PulseAll(_gate);
        }
        foreach (var p in left) p.Done.TrySetException(new ObjectDisposedException($"stage {_name} is shutting down"));
        _thread.Join(TimeSpan.FromSeconds(30));
    }
}
