namespace DiffusionCluster.Grains.Batching;

/// Dynamic batching limits of one stage on one silo (Triton's max batch size and max queue delay, plus a
/// bounded queue).
public sealed class BatchingOptions
{
    public int MaxBatchSize { get; set; } = 4;
    /// 0: a batch starts as soon as the batcher is free, with whatever has queued (a lone request at once); under load,
    /// requests that arrive while a batch runs form the next one. A delay pays only where a fuller batch costs little more
    /// than a lone request (GPUs; `plan` chooses it per pool).
    public double MaxQueueDelayMilliseconds { get; set; }
    public int MaxQueueLength { get; set; } = 64;

    /// The longest a batch may wait for company: past this a request's own latency matters more than a fuller batch.
    public const double MaxQueueDelayLimitMilliseconds = 10_000;

    public void Validate(string stage)
    {
        if (MaxBatchSize < 1 || MaxBatchSize > 256) throw new ArgumentException($"{stage}: MaxBatchSize = {MaxBatchSize}; allowed 1 to 256");
        if (!(MaxQueueDelayMilliseconds >= 0 && MaxQueueDelayMilliseconds <= MaxQueueDelayLimitMilliseconds))
            throw new ArgumentException($"{stage}: MaxQueueDelayMilliseconds = {MaxQueueDelayMilliseconds}; allowed 0 to {MaxQueueDelayLimitMilliseconds}");
        if (MaxQueueLength < 1 || MaxQueueLength > 100_000) throw new ArgumentException($"{stage}: MaxQueueLength = {MaxQueueLength}; allowed 1 to 100000");
    }
}
