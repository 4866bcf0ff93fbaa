using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.ServiceDefaults;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace DiffusionCluster.Grains.Tests;

/// One trace per request across silos: a root span, a span per stage attempt in order, Orleans' own call
/// spans between them, and the caller's trace as parent.
public sealed class TracingTests : IAsyncLifetime
{
    readonly List<Activity> _spans = [];
    TracerProvider _tracing = null!;
    StageCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(CascadeTelemetry.Name).AddSource(TelemetryHosting.OrleansSources)
            .AddInMemoryExporter(_spans)
            .Build();
        _cluster = await StageCluster.Start(["text,prior", "decoder64", "sr256,sr1024"]);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _tracing.Dispose();
    }

    List<Activity> Trace(ActivityTraceId trace)
    {
        _tracing.ForceFlush();
        lock (_spans) return _spans.Where(s => s.TraceId == trace).OrderBy(s => s.StartTimeUtc).ToList();
    }

    Activity Root(Guid requestId)
    {
        _tracing.ForceFlush();
        lock (_spans) return _spans.Single(s => s.OperationName == "generate" && (string?)s.GetTagItem(CascadeTelemetry.Tags.RequestId) == requestId.ToString());
    }

    [Fact]
    public async Task A_request_is_one_trace_with_a_span_per_stage_in_order()
    {
        var id = Guid.NewGuid();
        var result = await _cluster.Client.Generate(Specs.Quick(size: 256), id);

        var root = Root(id);
        var trace = Trace(root.TraceId);
        var stages = trace.Where(s => s.Source.Name == CascadeTelemetry.Name && s.OperationName.StartsWith("stage ")).ToList();
        Assert.Equal(["stage text", "stage prior", "stage decoder64", "stage sr256"], stages.Select(s => s.OperationName));
        Assert.All(stages, s => Assert.Equal(root.SpanId, s.ParentSpanId));
        foreach (var (span, run) in stages.Zip(result.Stages))
        {
            Assert.Equal(run.Stage.Name(), span.GetTagItem(CascadeTelemetry.Tags.Stage));
            Assert.Equal(run.Silo, span.GetTagItem(CascadeTelemetry.Tags.Silo));
            Assert.Equal("cpu", span.GetTagItem(CascadeTelemetry.Tags.Device));
            Assert.Equal(1, span.GetTagItem(CascadeTelemetry.Tags.BatchSize));
            Assert.Equal(run.QueueMilliseconds, span.GetTagItem(CascadeTelemetry.Tags.QueueMs));
            Assert.Equal(run.ComputeMilliseconds, span.GetTagItem(CascadeTelemetry.Tags.ComputeMs));
            Assert.Equal(run.Model, span.GetTagItem(CascadeTelemetry.Tags.Model));
            Assert.Equal("completed", span.GetTagItem(CascadeTelemetry.Tags.Outcome));
            Assert.Equal(1, span.GetTagItem(CascadeTelemetry.Tags.Attempt));
        }
        Assert.EndsWith("/text_encoder", result.Stages[0].Model);
        Assert.Null(stages[0].GetTagItem(CascadeTelemetry.Tags.Steps));
        Assert.Equal(2, stages[2].GetTagItem(CascadeTelemetry.Tags.Steps));
        // Orleans' own spans for the stage calls, on the stage silos, belong to the same trace.
        Assert.Contains(trace, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.ParentSpanId == stages[2].SpanId);
        Assert.Equal("completed", root.GetTagItem(CascadeTelemetry.Tags.Outcome));
    }

    [Fact]
    public async Task A_callers_traceparent_becomes_the_parent_of_the_request()
    {
        var caller = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        var id = Guid.NewGuid();
        ActivitySpanId incomingSpan;
        using (var incoming = new Activity("http request").SetParentId($"00-{caller}-{callerSpan}-01").Start())
        {
            incomingSpan = incoming.SpanId;
            await _cluster.Client.Generate(Specs.Quick(), id);
        }

        var root = Root(id);

        Assert.Equal(caller, root.TraceId);
        // The client's call span hangs off the caller's span; the request's spans follow from it.
        Assert.Contains(Trace(caller), s => s.ParentSpanId == incomingSpan);
    }

    [Fact]
    public async Task A_rejected_request_marks_its_span_as_an_error()
    {
        var id = Guid.NewGuid();
        await Assert.ThrowsAsync<ArgumentException>(() => _cluster.Client.GetGrain<IGenerationGrain>(id)
            .Generate(Specs.Quick() with { Prompt = string.Join(", ", Enumerable.Repeat("a red circle", 5)) }));

        var root = Root(id);
        var text = Trace(root.TraceId).Single(s => s.OperationName == "stage text");

        Assert.Equal(ActivityStatusCode.Error, root.Status);
        Assert.Equal("invalid", root.GetTagItem(CascadeTelemetry.Tags.Outcome));
        Assert.Equal(ActivityStatusCode.Error, text.Status);
        Assert.Contains("at most 3", text.StatusDescription);
    }
}
