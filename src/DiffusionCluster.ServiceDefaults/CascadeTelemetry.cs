using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DiffusionCluster.ServiceDefaults;

/// The one ActivitySource and Meter of the cascade, with its instruments and attribute names. Spans: one
/// "generate" span per request, one "stage {name}" span per stage attempt under it. Metrics (Prometheus
/// names in brackets): per-stage queue and compute duration [dc_stage_queue_duration_seconds,
/// dc_stage_compute_duration_seconds], batch size [dc_stage_batch_size], queue depth [dc_stage_queue_depth],
/// requests by outcome [dc_requests_total], request duration [dc_request_duration_seconds], images
/// produced [dc_images_total]; silos add whether CPU convolutions run on oneDNN [dc_kernels_onednn].
public static class CascadeTelemetry
{
    public const string Name = "DiffusionCluster";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    /// Bucket bounds in seconds for every duration histogram: milliseconds of queueing up to a ten-minute request.
    /// Without them exporters use OpenTelemetry's default bounds (0, 5, 10 ... 10000), meant for milliseconds, and
    /// every sub-second duration lands in the first bucket.
    public static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    static readonly InstrumentAdvice<double> Seconds = new() { HistogramBucketBoundaries = SecondsBuckets };

    public static readonly Histogram<double> QueueDuration = Meter.CreateHistogram(
        "dc.stage.queue.duration", "s", "Time a request waited in a stage's queue before its batch started", tags: null, advice: Seconds);
    public static readonly Histogram<double> ComputeDuration = Meter.CreateHistogram(
        "dc.stage.compute.duration", "s", "Time a stage's batch computed (every request in it sees the same)", tags: null, advice: Seconds);
    public static readonly Histogram<int> BatchSize = Meter.CreateHistogram<int>(
        "dc.stage.batch.size", "{request}", "Requests in the batch a stage ran");
    public static readonly Counter<long> Requests = Meter.CreateCounter<long>(
        "dc.requests", "{request}", "Generation requests by outcome (completed, failed, cancelled, overloaded)");
    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram(
        "dc.request.duration", "s", "Wall time of a generation request in its request grain", tags: null, advice: Seconds);
    public static readonly Counter<long> Images = Meter.CreateCounter<long>(
        "dc.images", "{image}", "Images produced, by size");
    public static readonly Counter<long> RequestsResumed = Meter.CreateCounter<long>(
        "dc.requests.resumed", "{request}", "Unfinished requests started again on another silo after theirs was lost");
    public static readonly Counter<long> StorageFailures = Meter.CreateCounter<long>(
        "dc.request_storage.failures", "{operation}", "Request storage reads, writes and deletes that failed (the request goes on from memory)");

    static readonly List<Func<IEnumerable<Measurement<int>>>> QueueDepthSources = [];
    static readonly ObservableGauge<int> QueueDepthGauge = Meter.CreateObservableGauge(
        "dc.stage.queue.depth", ObserveQueueDepth, "{request}", "Requests waiting in or running through a stage on this silo");

    /// Attribute names on spans and metrics.
    public static class Tags
    {
        public const string RequestId = "dc.request_id";
        public const string Stage = "dc.stage";
        public const string Silo = "dc.silo";
        public const string Device = "dc.device";
        public const string BatchSize = "dc.batch_size";
        public const string Steps = "dc.steps";
        public const string QueueMs = "dc.queue_ms";
        public const string ComputeMs = "dc.compute_ms";
        public const string Model = "dc.model";
        public const string Attempt = "dc.attempt";
        public const string Outcome = "dc.outcome";
        public const string Size = "dc.size";
        public const string Operation = "dc.operation";
    }

    /// A silo's stages report their queue depth through this; dispose to stop.
    public static IDisposable RegisterQueueDepth(Func<IEnumerable<Measurement<int>>> observe)
    {
        lock (QueueDepthSources) QueueDepthSources.Add(observe);
        return new Unregister(observe);
    }

    static IEnumerable<Measurement<int>> ObserveQueueDepth()
    {
        Func<IEnumerable<Measurement<int>>>[] sources;
        lock (QueueDepthSources) sources = QueueDepthSources.ToArray();
        return sources.SelectMany(s => s()).ToList();
    }

    sealed class Unregister(Func<IEnumerable<Measurement<int>>> observe) : IDisposable
    {
        public void Dispose()
        {
            lock (QueueDepthSources) QueueDepthSources.Remove(observe);
        }
    }

    /// Marks a span failed with the exception, as the OpenTelemetry conventions ask.
    public static void RecordError(this Activity? activity, Exception error)
    {
        if (activity is null) return;
        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.AddException(error);
    }
}
