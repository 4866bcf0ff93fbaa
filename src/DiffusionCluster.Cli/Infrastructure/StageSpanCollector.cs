using System.Collections.Concurrent;
using System.Diagnostics;
using DiffusionCluster.ServiceDefaults;

namespace DiffusionCluster.Cli.Infrastructure;

/// Listens to this process's cascade spans, so `generate` can print its latency table from the trace
/// itself (embedded silo: every span is in this process).
public sealed class StageSpanCollector : IDisposable
{
    readonly ActivityListener _listener;
    readonly ConcurrentQueue<Activity> _stopped = new();

    public StageSpanCollector()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == CascadeTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// The stage spans of one request, in the order they started.
    public IReadOnlyList<Activity> StagesOf(Guid requestId)
    {
        var root = _stopped.FirstOrDefault(a => a.OperationName == "generate" && (string?)a.GetTagItem(CascadeTelemetry.Tags.RequestId) == requestId.ToString());
        if (root is null) return [];
        return _stopped.Where(a => a.ParentSpanId == root.SpanId && a.TraceId == root.TraceId).OrderBy(a => a.StartTimeUtc).ToList();
    }

    public void Dispose() => _listener.Dispose();
}
