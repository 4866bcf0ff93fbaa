using System.CommandLine;
using DiffusionCluster.Grains.Stages.Executors;
using DiffusionCluster.Models.Cascade;
using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Grains.Capacity;
using DiffusionCluster.Grains.Stages;
using DiffusionCluster.Models;
using DiffusionCluster.Models.Networks;

namespace DiffusionCluster.Cli.Commands;

/// `bench stages`: each stage's batch compute time at several batch sizes on this device, with default
/// sampling, written as the profile `plan` reads. Inputs are real: one prompt run through the chain first. Each
/// batch's network work is counted (NetworkFlops, summed by a FlopTally over the forwards it ran) and its rate set
/// against the device's measured peak (ComputePeak), so a capacity plan and a regression read in one table.
public static class StageBenchmark
{
    static readonly Option<int> SizeOption = CliOption.Int("--size", "image side whose stages are measured", 1024, 64, 1024, "PIXELS");
    static readonly Option<int[]> BatchSizesOption = CliOption.Ints("--batch-sizes", "batch sizes measured", "1,2,4", 1, 256);
    static readonly Option<int> RunsOption = CliOption.Int("--runs", "timed runs per batch size (the median is kept)", 1, 1, 100);
    static readonly Option<string> ModelOption = CliOption.Model();
    static readonly Option<string> DeviceNameOption = CliOption.Device();
    static readonly Option<string> PrecisionNameOption = CliOption.Precision();
    static readonly Option<string?> OutputOption = CliOption.OutputFile("--out", "the profile to write", "stage-profile.json", "FILE.json");

    public static Command Create()
    {
        var command = new Command("stages", "Each stage's batch compute time per batch size on this device: the profile `plan` reads.")
        {
            SizeOption, BatchSizesOption, RunsOption, ModelOption, DeviceNameOption, PrecisionNameOption, OutputOption,
        };
        command.SetAction(Run);
        return command;
    }

    static int Run(ParseResult line)
    {
        int size = line.GetValue(SizeOption);
        var batchSizes = line.GetValue(BatchSizesOption)!.Distinct().Order().ToList();
        int runs = line.GetValue(RunsOption);
        var model = line.GetValue(ModelOption)!;
        var deviceName = line.GetValue(DeviceNameOption)!;
        var precision = line.GetValue(PrecisionNameOption)!;
        var output = line.GetValue(OutputOption)!;
        var device = DeviceOption.Parse(deviceName);
        var dtype = PrecisionOption.Parse(precision, device);
        var peak = ComputePeak.Measure(device, dtype);
        Console.WriteLine($"peak on {deviceName} ({precision}): matmul {peak.MatmulGflops:F0} GFLOP/s, 3x3 conv {peak.ConvGflops:F0} GFLOP/s");
        var spec = new GenerationSpec { Prompt = "a large red star in the center on a white background", Size = size };
        spec.Validate();

        var descriptors = CascadeFolder.Definition(model).For(size);
        var stages = descriptors.Select(s => s.Stage).ToList();
        var executors = stages.ToDictionary(s => s, s => new StageExecutor(s, model, device, dtype));
        // One request through the chain gives every stage a real input.
        var inputs = new Dictionary<CascadeStage, StageInput>();
        var walk = new CascadeWalk(spec, Guid.NewGuid(), descriptors);
        foreach (var stage in descriptors)
        {
            var input = walk.Input(stage);
            inputs[stage.Stage] = input;
            var row = executors[stage.Stage].Run([input], (_, _, _) => { }, CancellationToken.None)[0];
            walk.Record(stage, row.Text, row.Tensor);
        }

        var timings = new List<StageTimings>();
        foreach (var stage in stages)
        {
            var points = new List<BatchTiming>();
            foreach (int batch in batchSizes)
            {
                var batchInputs = Enumerable.Range(0, batch).Select(i => inputs[stage] with { Seed = (ulong)i }).ToList();
                long flops = 0;
                var seconds = Enumerable.Range(0, runs).Select(_ =>
                {
                    using var tally = FlopTally.Start();
                    var clock = Stopwatch.StartNew();
                    executors[stage].Run(batchInputs, (_, _, _) => { }, CancellationToken.None);
                    double elapsed = clock.Elapsed.TotalSeconds;
                    flops = tally.Flops;
                    return elapsed;
                }).Order().ElementAt(runs / 2);
                var point = new BatchTiming(batch, seconds, flops / 1e9);
                points.Add(point);
                Console.WriteLine($"{stage.Name(),-8} batch {batch,3}: {seconds,8:F3} s  ({batch / seconds:F3} images/s)  "
                    + $"{point.Gflop / batch,8:F2} GFLOP per image, {point.GflopsPerSecond,6:F1} GFLOP/s = {point.GflopsPerSecond / peak.Gflops:P0} of peak");
            }
            timings.Add(new StageTimings(stage.Name(), executors[stage].Steps(inputs[stage]) ?? 0, points));
        }
        // Which CPU kernels ran (oneDNN or libtorch's native ones) decides the figures; the networks' own checks run as they load.
        var kernels = $"{TorchRuntime.Describe()}; {NativeHeap.Describe()}";
        Console.WriteLine(kernels);
        var profile = new StageProfile(deviceName, $"{Environment.MachineName}, {Environment.ProcessorCount} cores", Path.GetFileName(Path.GetFullPath(model).TrimEnd('/')), size, timings, peak.Gflops, kernels);
        File.WriteAllText(output, profile.ToJson());
        Console.WriteLine($"wrote {output}");
        return 0;
    }
}
