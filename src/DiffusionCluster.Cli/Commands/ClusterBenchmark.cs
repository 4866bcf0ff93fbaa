using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Grains.Stages;
using DiffusionCluster.Models;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Imaging;
using static TorchSharp.torch;

namespace DiffusionCluster.Cli.Commands;

public sealed record ClusterBenchResult(
    int Size, int Runs, double[] DirectMs, double[] ClusterMs, double OverheadPercent,
    double[] DirectOutsideStagesMs, double[] ClusterOutsideComputeMs,
    int Concurrency, int ThroughputSize, double UnbatchedSeconds, double BatchedSeconds, int MaxBatchSize);

/// `bench cluster`: what the cluster costs and what batching buys.
/// Overhead: the same requests (same seeds and options) run alternately as a direct in-process call of the
/// stages (CascadePipeline, PNG encoding included) and through the embedded cluster's grains (request grain,
/// stage workers, batcher, wire tensors); medians compared in one process and one run.
/// Throughput: N concurrent requests through an embedded silo with MaxBatchSize 1, then with MaxBatchSize N.
public static class ClusterBenchmark
{
    static readonly Option<int> SizeOption = CliOption.Int("--size", "image side of the overhead requests", 1024, 64, 1024, "PIXELS");
    static readonly Option<int> RunsOption = CliOption.Int("--runs", "requests each way", 3, 1, 100);
    static readonly Option<int> ConcurrencyOption = CliOption.Int("--concurrency", "concurrent requests of the throughput measure", 8, 1, 64);
    static readonly Option<int> ThroughputSizeOption = CliOption.Int("--throughput-size", "image side of the throughput requests", 64, 64, 1024, "PIXELS");
    static readonly Option<string> ModelOption = CliOption.Model();
    static readonly Option<int> ThreadsOption = CliOption.Threads();
    static readonly Option<string> DeviceNameOption = CliOption.Device();
    static readonly Option<string> PrecisionNameOption = CliOption.Precision();
    static readonly Option<string?> OutputOption = CliOption.OutputFile("--out", "also write the figures as JSON", null, "FILE.json");

    public static Command Create()
    {
        var command = new Command("cluster", "Orchestration overhead (the same requests through the embedded cluster and as a direct in-process call of the same "
            + "stages) and throughput of N concurrent requests at batch 1 and with the batcher.")
        {
            SizeOption, RunsOption, ConcurrencyOption, ThroughputSizeOption, ModelOption, ThreadsOption, DeviceNameOption, PrecisionNameOption, OutputOption,
        };
        command.SetAction((line, _) => Run(line));
        return command;
    }

    static async Task<int> Run(ParseResult line)
    {
        int size = line.GetValue(SizeOption);
        int runs = line.GetValue(RunsOption);
        int concurrency = line.GetValue(ConcurrencyOption);
        int throughputSize = line.GetValue(ThroughputSizeOption);
        var model = line.GetValue(ModelOption)!;
        int threads = line.GetValue(ThreadsOption);
        var deviceName = line.GetValue(DeviceNameOption)!;
        var precision = line.GetValue(PrecisionNameOption)!;
        var output = line.GetValue(OutputOption);
        if (threads > 0) set_num_threads(threads);
        var device = DeviceOption.Parse(deviceName);
        var dtype = PrecisionOption.Parse(precision, device);

        var spec = new GenerationSpec { Prompt = "a large red star in the center on a white background", Size = size };
        spec.Validate();
        var pipeline = new CascadePipeline(model, device, dtype);
        var direct = new List<double>();
        var cluster = new List<double>();
        // Wall time not spent computing stages: the part orchestration can cost, free of the compute's noise.
        var directOutside = new List<double>();
        var clusterOutside = new List<double>();
        await using (var embedded = await CascadeConnection.Embedded(model, deviceName, threads, precision: precision))
        {
            // Warm-up: both paths load their models and run once.
            Direct(pipeline, spec with { Seed = 1000 }, []);
            await embedded.Grains.Generate(spec with { Seed = 1000 });
            for (int i = 0; i < runs; i++)
            {
                var s = spec with { Seed = (ulong)i };
                // Alternate which path goes first, so drift in machine load falls on both.
                if (i % 2 == 0) direct.Add(Direct(pipeline, s, directOutside));
                var clock = Stopwatch.StartNew();
                var result = await embedded.Grains.Generate(s);
                cluster.Add(clock.Elapsed.TotalMilliseconds);
                clusterOutside.Add(cluster[^1] - result.Stages.Sum(r => r.ComputeMilliseconds));
                if (i % 2 == 1) direct.Add(Direct(pipeline, s, directOutside));
                Console.WriteLine($"run {i + 1}/{runs}: direct {direct[^1]:F0} ms, cluster {cluster[^1]:F0} ms");
            }
        }
        double overhead = (Median(cluster) / Median(direct) - 1) * 100;
        Console.WriteLine($"{size}px: direct median {Median(direct):F0} ms, cluster median {Median(cluster):F0} ms, overhead {overhead:+0.00;-0.00}%");
        Console.WriteLine($"outside stage compute: direct median {Median(directOutside):F0} ms, cluster median {Median(clusterOutside):F0} ms " +
                          $"({(Median(clusterOutside) - Median(directOutside)) / Median(direct) * 100:+0.00;-0.00}% of the direct wall time)");

        var unbatched = await Throughput(model, deviceName, precision, threads, concurrency, throughputSize, maxBatch: 1);
        var batched = await Throughput(model, deviceName, precision, threads, concurrency, throughputSize, maxBatch: concurrency);
        Console.WriteLine($"{concurrency} concurrent {throughputSize}px requests: batch 1 {unbatched:F1} s ({concurrency / unbatched:F2} images/s), " +
                          $"batcher (max {concurrency}) {batched:F1} s ({concurrency / batched:F2} images/s)");

        if (output is not null)
        {
            var result = new ClusterBenchResult(size, runs, direct.ToArray(), cluster.ToArray(), overhead,
                directOutside.ToArray(), clusterOutside.ToArray(), concurrency, throughputSize, unbatched, batched, concurrency);
            await File.WriteAllTextAsync(output, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"wrote {output}");
        }
        return 0;
    }

    static double Direct(CascadePipeline pipeline, GenerationSpec spec, List<double> outsideStages)
    {
        var clock = Stopwatch.StartNew();
        var request = new GenerationSpec
        {
            Prompt = spec.Prompt, Size = spec.Size, Seed = spec.Seed,
            Prior = spec.Prior, Decoder64 = spec.Decoder64, Sr256 = spec.Sr256, Sr1024 = spec.Sr1024,
        };
        var (image, timings, _) = pipeline.Generate(request);
        using (image) Png.Encode(image);
        var wall = clock.Elapsed.TotalMilliseconds;
        outsideStages.Add(wall - timings.Sum(t => t.Milliseconds));
        return wall;
    }

    static async Task<double> Throughput(string model, string device, string precision, int threads, int concurrency, int size, int maxBatch)
    {
        await using var embedded = await CascadeConnection.Embedded(model, device, threads, new Dictionary<string, string?>
        {
            ["Silo:DefaultBatching:MaxBatchSize"] = maxBatch.ToString(),
            ["Silo:DefaultBatching:MaxQueueDelayMilliseconds"] = "50",
            ["Silo:WarmUp"] = "true",
        }, precision);
        var spec = new GenerationSpec { Prompt = "a small blue ring in the top left corner on a black background", Size = size };
        await embedded.Grains.Generate(spec with { Seed = 999 });
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(i => embedded.Grains.Generate(spec with { Seed = (ulong)i })));
        return clock.Elapsed.TotalSeconds;
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
