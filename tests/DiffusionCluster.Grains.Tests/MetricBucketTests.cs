using DiffusionCluster.ServiceDefaults;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace DiffusionCluster.Grains.Tests;

/// Duration histograms carry second-scale buckets, so dashboards' percentiles of sub-second times are right.
public sealed class MetricBucketTests
{
    [Theory]
    [InlineData("dc.stage.queue.duration")]
    [InlineData("dc.stage.compute.duration")]
    [InlineData("dc.request.duration")]
    public void A_43_ms_observation_lands_in_the_bucket_up_to_0_05_s(string name)
    {
        var exported = new List<Metric>();
        using (var provider = Sdk.CreateMeterProviderBuilder().AddMeter(CascadeTelemetry.Name).AddInMemoryExporter(exported).Build())
        {
            var histogram = name switch
            {
                "dc.stage.queue.duration" => CascadeTelemetry.QueueDuration,
                "dc.stage.compute.duration" => CascadeTelemetry.ComputeDuration,
                _ => CascadeTelemetry.RequestDuration,
            };
            histogram.Record(0.043, new KeyValuePair<string, object?>(CascadeTelemetry.Tags.Stage, "bucket-test"));
            provider.ForceFlush();
        }

        var bounds = new List<(double Bound, long Count)>();
        foreach (var metric in exported.Where(m => m.Name == name).Take(1)) // flushed again when the provider is disposed
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                if (!HasTestTag(point)) continue;
                foreach (var bucket in point.GetHistogramBuckets()) bounds.Add((bucket.ExplicitBound, bucket.BucketCount));
            }

        Assert.Equal(CascadeTelemetry.SecondsBuckets, bounds.Select(b => b.Bound).Where(double.IsFinite));
        Assert.Equal(0.05, Assert.Single(bounds, b => b.Count == 1).Bound);
    }

    static bool HasTestTag(in MetricPoint point)
    {
        foreach (var tag in point.Tags)
            if (tag.Key == CascadeTelemetry.Tags.Stage && Equals(tag.Value, "bucket-test")) return true;
        return false;
    }
}
