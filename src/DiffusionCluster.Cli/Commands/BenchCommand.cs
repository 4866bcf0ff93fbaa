using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Cli.Commands;

/// `bench networks`: forward latency and size of every default network, measured on this machine;
/// `bench cluster`, `bench stages`, `bench tracing`, `bench chaos`, `bench scale`: see ClusterBenchmark,
/// StageBenchmark, TracingBenchmark, ChaosBenchmark, ScaleBenchmark.
public static class BenchCommand
{
    public static Command Create() => new("bench", "Measures this machine: networks, stages, the cluster's cost, tracing, faults and scale.")
    {
        Networks(), ClusterBenchmark.Create(), StageBenchmark.Create(), TracingBenchmark.Create(), ChaosBenchmark.Create(), ScaleBenchmark.Create(),
    };

    static Command Networks()
    {
        var device = CliOption.Device();
        var runs = CliOption.Int("--runs", "timed runs per network (the median is reported)", 5, 1, 1000);
        var output = CliOption.OutputFile("--out", "also write the figures as JSON", null, "FILE.json");
        var command = new Command("networks", "Forward time and parameter count of each default network at batch 1 and 8, and peak memory of the "
            + "1024x1024 super-resolution forward.") { device, runs, output };
        command.SetAction(line => Networks(DeviceOption.Parse(line.GetValue(device)!), line.GetValue(runs), line.GetValue(output)));
        return command;
    }

    static int Networks(Device device, int runs, string? output)
    {
        var results = NetworkBenchmark.RunAll(device, runs, Console.Out);
        if (output is not null)
        {
            File.WriteAllText(output, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"wrote {output}");
        }
        return 0;
    }
}

public sealed record NetworkTiming(string Network, long Parameters, string Input, double Batch1Ms, double? Batch8Ms, double? PeakRssMb, double? RssBeforeMb);

/// Times each default network's forward pass (no_grad, eval mode, median of several runs after a warm-up).
public static class NetworkBenchmark
{
    public static List<NetworkTiming> RunAll(Device device, int runs, TextWriter log)
    {
        using var _ = no_grad();
        manual_seed(0);
        var textEncoder = Prepare(new TextTransformer(CascadeDefaults.TextEncoder), device);
        using var tokens1 = Tokens(1, device);
        using var tokens8 = Tokens(8, device);
        using var text1 = textEncoder.forward(tokens1);
        using var text8 = textEncoder.forward(tokens8);
        TextEncoding Text(long b) => b == 1 ? text1 : text8;

        // The 1024 stage's peak memory is taken first, on a cold forward: once other networks have run,
        // memory they freed stays resident and would hide what this stage needs by itself.
        var sr1024 = Prepare(new UNet(CascadeDefaults.Sr1024), device);
        Tensor Sr1024(long b) => sr1024.forward(Image(b, 1024, device), Steps(b, device),
            new UNetConditioning(Text(b), LowRes: Image(b, 256, device), AugmentationLevel: Steps(b, device)));
        (double, double)? sr1024Memory = null;
        if (device.type == DeviceType.CPU && ProcessMemory.ResetPeak())
        {
            double before = ProcessMemory.CurrentMegabytes();
            using (NewDisposeScope()) Sr1024(1);
            sr1024Memory = (before, ProcessMemory.PeakMegabytes());
        }

        var results = new List<NetworkTiming>();
        void Add(string name, nn.Module module, string input, Func<long, Tensor> forward, bool batch8 = true, (double Before, double Peak)? memory = null)
        {
            double? rssBefore = memory?.Before, peakRss = memory?.Peak;
            double b1 = Time(() => forward(1), runs);
            double? b8 = batch8 ? Time(() => forward(8), runs) : null;
            var timing = new NetworkTiming(name, module.parameters().Sum(p => p.numel()), input, b1, b8, peakRss, rssBefore);
            results.Add(timing);
            log.WriteLine($"{name,-20} {timing.Parameters,12:N0} params  {input,-28} b1 {b1,9:F1} ms  b8 {(b8 is null ? "-" : $"{b8:F1} ms"),12}" +
                          (peakRss is null ? "" : $"  peak RSS {peakRss:F0} MB (before {rssBefore:F0} MB)"));
        }

        Add("text_encoder", textEncoder, "32 tokens", b => textEncoder.forward(b == 1 ? tokens1 : tokens8).Pooled);

        var imageEncoder = Prepare(new ImageEncoder(CascadeDefaults.ImageEncoder), device);
        Add("image_encoder", imageEncoder, "64x64", b => imageEncoder.forward(Image(b, 64, device)));

        var noisyEncoder = Prepare(new ImageEncoder(CascadeDefaults.NoisyImageEncoder), device);
        Add("image_encoder_noisy", noisyEncoder, "64x64 + t", b => noisyEncoder.forward(Image(b, 64, device), Steps(b, device)));

        var prior = Prepare(new DiffusionPrior(CascadeDefaults.Prior), device);
        Add("prior", prior, "embedding 128 + text", b => prior.forward(randn(b, 128, device: device), Steps(b, device), Text(b)));

        var decoder = Prepare(new UNet(CascadeDefaults.Decoder64), device);
        Add("decoder64", decoder, "64x64 + text + z_i", b => decoder.forward(Image(b, 64, device), Steps(b, device),
            new UNetConditioning(Text(b), randn(b, 128, device: device))));

        var sr256 = Prepare(new UNet(CascadeDefaults.Sr256), device);
        Add("sr256", sr256, "256x256 from 64x64 + text", b => sr256.forward(Image(b, 256, device), Steps(b, device),
            new UNetConditioning(Text(b), LowRes: Image(b, 64, device), AugmentationLevel: Steps(b, device))));

        Add("sr1024", sr1024, "1024x1024 from 256x256 + text", Sr1024, batch8: false, memory: sr1024Memory);
        return results;
    }

    static T Prepare<T>(T module, Device device) where T : nn.Module
    {
        module.to(device);
        module.eval();
        return module;
    }

    static double Time(Func<Tensor> forward, int runs)
    {
        Run(forward); // warm-up: first calls allocate and pick kernels
        var samples = Enumerable.Range(0, runs).Select(_ => Run(forward)).OrderBy(x => x).ToArray();
        return samples[samples.Length / 2];
    }

    static double Run(Func<Tensor> forward)
    {
        using var scope = NewDisposeScope();
        var watch = Stopwatch.StartNew();
        var output = forward();
        if (output.device.type == DeviceType.CUDA) cuda.synchronize();
        return watch.Elapsed.TotalMilliseconds;
    }

    static Tensor Tokens(long batch, Device device)
    {
        var ids = randint(4, CascadeDefaults.TextEncoder.VocabSize, new[] { batch, 32L }, dtype: int64, device: device);
        ids[.., 16..] = 0; // realistic padding: captions are about half the context
        return ids;
    }

    static Tensor Image(long batch, long size, Device device) => rand(new[] { batch, 3, size, size }, device: device) * 2 - 1;

    static Tensor Steps(long batch, Device device) => full(new[] { batch }, 500L, int64, device);
}
