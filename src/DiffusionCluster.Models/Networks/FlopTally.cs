namespace DiffusionCluster.Models.Networks;

/// Sums the analytic FLOPs (NetworkFlops) of every network forward run while it is open, on this call's flow
/// and the tasks it starts: what `bench stages` divides by time. Networks report each forward when Counting, which
/// costs one read of an async-local when no tally is open. A tally opened inside another counts alone.
public sealed class FlopTally : IDisposable
{
    static readonly AsyncLocal<FlopTally?> Open = new();
    readonly FlopTally? _outer;
    long _flops;

    FlopTally()
    {
        _outer = Open.Value;
        Open.Value = this;
    }

    /// Opens a tally for the code that runs until it is disposed.
    public static FlopTally Start() => new();

    public long Flops => Interlocked.Read(ref _flops);

    /// Whether a tally is open on this flow (so a forward's count is worth computing).
    public static bool Counting => Open.Value is not null;

    /// Adds a forward's count to the open tally, if any.
    public static void Add(NetworkFlops.Count count)
    {
        if (Open.Value is { } tally) Interlocked.Add(ref tally._flops, count.Flops);
    }

    public void Dispose() => Open.Value = _outer;
}
