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

    public static async Task<int> Run(Arguments args)
    {
        int size = args.Int("size", 64, 64, 1024);
        int runs = args.Int("runs", 10, 1, 1000);
        var model = args.Text("model", "models/shapes-cascade");
        int threads = args.Int("threads", 0, 0, 1024);
        args.RejectUnknown();

        var spec = new GenerationSpec { Prompt = "a large red star in the center on a white background", Size = size };
        await using var embedded = await CascadeConnection.Embedded(model, "cpu", threads);
        await embedded.Grains.Generate(spec with { Seed = 1000 });
        var on = new List<double>();
        var off = new List<double>();
        var exporter = new CountingExporter();
        for (int i = 0; i < 2 * runs; i++)
        {
            bool traced = i % 4 is 0 or 3; // on, off, off, on, ...: neither side always goes first
            using var tracing = traced
                ? Sdk.CreateTracerProviderBuilder().AddSource(CascadeTelemetry.Name).AddSource(TelemetryHosting.OrleansSources)
                    .AddProcessor(new SimpleActivityExportProcessor(exporter)).Build()
                : null;
            var clock = Stopwatch.StartNew();
            await embedded.Grains.Generate(spec with { Seed = (ulong)(i / 2) });
            (traced ? on : off).Add(clock.Elapsed.TotalMilliseconds);
        }
        double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        Console.WriteLine($"{size}px, {runs} requests each: tracing off median {Median(off):F1} ms, on median {Median(on):F1} ms, " +
                          $"ratio {Median(on) / Median(off):F4} ({exporter.Spans / runs} spans per request)");
        return 0;
    }
}
