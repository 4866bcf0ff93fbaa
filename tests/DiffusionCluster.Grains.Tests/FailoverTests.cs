using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.ServiceDefaults;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace DiffusionCluster.Grains.Tests;

/// A silo dying mid-stage costs a retry, not the request.
public sealed class FailoverTests
{
    [Fact]
    public async Task Killing_the_silo_running_a_stage_moves_the_stage_to_another_host_and_the_request_completes()
    {
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(CascadeTelemetry.Name).AddInMemoryExporter(spans).Build();
        await using var cluster = await StageCluster.Start(["text,prior,decoder64", "sr256", "sr256"]);
        var request = cluster.Request();
        var run = request.Generate(Specs.Quick(size: 256) with { Sr256 = new SamplingOptions(200, 1.0, "static", AugmentationLevel: 100) });
        while ((await request.GetProgress()) is not { Stage: CascadeStage.Sr256, Step: >= 2 })
            await Task.Delay(10);

        // Kill whichever sr256 silo is running it: the one whose sr256 worker is busy.
        var busy = cluster.Cluster.Silos.Skip(1).Single(s =>
            s.ServiceProvider.GetService(typeof(Stages.HostedStages)) is Stages.HostedStages h && h.Load()[CascadeStage.Sr256] > 0);
        var killed = busy.SiloAddress.ToString();
        await cluster.Cluster.KillSiloAsync(busy);
        var result = await run;

        var sr256 = result.Stages.Single(s => s.Stage == CascadeStage.Sr256);
        Assert.NotEqual(killed, sr256.Silo);
        // Usually the second attempt; while the cluster has not yet declared the killed silo dead, a lookup
        // through it can fail once more, which costs another (unreachable) attempt, never the request.
        Assert.True(sr256.Attempt >= 2, $"attempt {sr256.Attempt}");
        // The trace shows the failed attempt as an error and each retry beside it, the last one completed.
        tracing.ForceFlush();
        var attempts = spans.Where(s => s.OperationName == "stage sr256").OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(Enumerable.Range(1, sr256.Attempt), attempts.Select(s => (int)s.GetTagItem(CascadeTelemetry.Tags.Attempt)!));
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        Assert.Equal(killed, attempts[0].GetTagItem(CascadeTelemetry.Tags.Silo));
        Assert.Equal("completed", attempts[^1].GetTagItem(CascadeTelemetry.Tags.Outcome));
        Assert.All(attempts, a => Assert.Equal(attempts[0].ParentSpanId, a.ParentSpanId));
    }
}
