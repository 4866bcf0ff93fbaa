using System.CommandLine;
using DiffusionCluster.Models.Cascade;
using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.ServiceDefaults;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace DiffusionCluster.Cli.Commands;

/// `bench tracing`: the same requests through the embedded cluster with tracing on (our spans and Orleans'
/// own, recorded by an OpenTelemetry tracer provider and handed to an exporter) and off (no listener, so no
/// span is created), alternating, in one process.
public static class TracingBenchmark
{
    sealed class CountingExporter : BaseExporter<Activity>
    {
        public long Spans;

        public override ExportResult Export(in Batch<Activity> batch)
        {
            foreach (var _ in batch) Spans++;
            return ExportResult.Success;
        }
    }

    static readonly Option<int> SizeOption = CliOption.Int("--size", "image side of the requests", 64, 64, 1024, "PIXELS");
    static readonly Option<int> RunsOption = CliOption.Int("--runs", "requests each way", 10, 1, 1000);
    static readonly Option<string> ModelOption = CliOption.Model();
    static readonly Option<int> ThreadsOption = CliOption.Threads();
    static readonly Option<string> DeviceNameOption = CliOption.Device();
    // Our spans without Orleans' per-call spans, to see which part costs what.
    static readonly Option<bool> OursOnlyOption = CliOption.Flag("--ours-only", "record the cascade's spans only, not Orleans' own");

    public static Command Create()
    {
        var command = new Command("tracing", "End-to-end latency of the same requests with tracing on and off, alternating, in one run.")
        {
            SizeOption, RunsOption, ModelOption, ThreadsOption, DeviceNameOption, OursOnlyOption,
        };
        command.SetAction((line, _) => Run(line));
        return command;
    }

    static async Task<int> Run(ParseResult line)
    {
        int size = line.GetValue(SizeOption);
        int runs = line.GetValue(RunsOption);
        var model = line.GetValue(ModelOption)!;
        int threads = line.GetValue(ThreadsOption);
        var device = line.GetValue(DeviceNameOption)!;
        bool oursOnly = line.GetValue(OursOnlyOption);
        var sources = oursOnly ? [CascadeTelemetry.Name] : new[] { CascadeTelemetry.Name }.Concat(TelemetryHosting.OrleansSources).ToArray();

        var spec = new GenerationSpec { Prompt = "a large red star in the center on a white background", Size = size };
        await using var embedded = await CascadeConnection.Embedded(model, device, threads);
        await embedded.Grains.Generate(spec with { Seed = 1000 });
        var on = new List<double>();
        var off = new List<double>();
        var exporter = new CountingExporter();
        for (int i = 0; i < 2 * runs; i++)
        {
            bool traced = i % 4 is 0 or 3; // on, off, off, on, ...: neither side always goes first
            using var tracing = traced
                ? Sdk.CreateTracerProviderBuilder().AddSource(sources).AddProcessor(new SimpleActivityExportProcessor(exporter)).Build()
                : null;
            var clock = Stopwatch.StartNew();
            await embedded.Grains.Generate(spec with { Seed = (ulong)(i / 2) });
            (traced ? on : off).Add(clock.Elapsed.TotalMilliseconds);
        }
        long spansPerRequest = exporter.Spans / runs;
        Console.WriteLine($"{size}px, {runs} requests each: tracing off median {ClusterBenchmark.Median(off):F1} ms, on median {ClusterBenchmark.Median(on):F1} ms, " +
                          $"ratio {ClusterBenchmark.Median(on) / ClusterBenchmark.Median(off):F4} ({spansPerRequest} spans per request)");
        // The end-to-end ratio cannot resolve much under the VM's run-to-run noise (a few %), so also time
        // the spans themselves: started, tagged as a stage span is, stopped and exported, under the same provider.
        double perSpanUs = SpanCost(sources);
        double perRequestMs = perSpanUs * spansPerRequest / 1000;
        Console.WriteLine($"one span costs {perSpanUs:F2} us (created, 10 tags, stopped, exported); x {spansPerRequest} per request = " +
                          $"{perRequestMs:F3} ms = {perRequestMs / ClusterBenchmark.Median(off) * 100:F3}% of the untraced median");
        return 0;
    }

    static double SpanCost(string[] sources)
    {
        const int Spans = 200_000;
        var exporter = new CountingExporter();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(sources).AddProcessor(new SimpleActivityExportProcessor(exporter)).Build();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Spans; i++)
        {
            using var span = CascadeTelemetry.Source.StartActivity("stage decoder64");
            span?.SetTag(CascadeTelemetry.Tags.Stage, "decoder64");
            span?.SetTag(CascadeTelemetry.Tags.Attempt, 1);
            span?.SetTag(CascadeTelemetry.Tags.Silo, "S127.0.0.1:11111:1");
            span?.SetTag(CascadeTelemetry.Tags.Steps, 25);
            span?.SetTag(CascadeTelemetry.Tags.Device, "cpu");
            span?.SetTag(CascadeTelemetry.Tags.BatchSize, 1);
            span?.SetTag(CascadeTelemetry.Tags.QueueMs, 20.5);
            span?.SetTag(CascadeTelemetry.Tags.ComputeMs, 1200.25);
            span?.SetTag(CascadeTelemetry.Tags.Model, "shapes-cascade/decoder64");
            span?.SetTag(CascadeTelemetry.Tags.Outcome, "completed");
        }
        return clock.Elapsed.TotalMicroseconds / Spans;
    }
}
