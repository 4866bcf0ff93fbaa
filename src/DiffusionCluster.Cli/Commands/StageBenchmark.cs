using DiffusionCluster.Grains.Stages.Executors;
using DiffusionCluster.Models.Cascade;
using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Grains.Capacity;
using DiffusionCluster.Grains.Stages;
using DiffusionCluster.Models;

namespace DiffusionCluster.Cli.Commands;

/// `bench stages`: each stage's batch compute time at several batch sizes on this device, with default
/// sampling, written as the profile `plan` reads. Inputs are real: one prompt run through the chain first.
public static class StageBenchmark
{
    public static int Run(Arguments args)
    {
        int size = args.Int("size", 1024, 64, 1024);
        var batchSizes = args.Ints("batch-sizes", "1,2,4", 1, 256).Distinct().Order().ToList();
        int runs = args.Int("runs", 1, 1, 100);
        var model = args.Text("model", CascadeFolder.Bundled);
        var deviceName = args.Text("device", "cpu");
        var precision = args.Text("precision", "fp32");
        var output = args.Text("out", "stage-profile.json");
        args.RejectUnknown();
        var device = DeviceOption.Parse(deviceName);
        var dtype = PrecisionOption.Parse(precision, device);
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
            var row = executors[stage.Stage].Run([input], (_, _) => { }, CancellationToken.None)[0];
            walk.Record(stage, row.Text, row.Tensor);
        }

        var timings = new List<StageTimings>();
        foreach (var stage in stages)
        {
            var points = new List<BatchTiming>();
            foreach (int batch in batchSizes)
            {
                var batchInputs = Enumerable.Range(0, batch).Select(i => inputs[stage] with { Seed = (ulong)i }).ToList();
                var seconds = Enumerable.Range(0, runs).Select(_ =>
                {
                    var clock = Stopwatch.StartNew();
                    executors[stage].Run(batchInputs, (_, _) => { }, CancellationToken.None);
                    return clock.Elapsed.TotalSeconds;
                }).Order().ElementAt(runs / 2);
                points.Add(new BatchTiming(batch, seconds));
                Console.WriteLine($"{stage.Name(),-8} batch {batch,3}: {seconds,8:F3} s  ({batch / seconds:F3} images/s)");
            }
            timings.Add(new StageTimings(stage.Name(), executors[stage].Steps(inputs[stage]) ?? 0, points));
        }
        var profile = new StageProfile(deviceName, $"{Environment.MachineName}, {Environment.ProcessorCount} cores", Path.GetFileName(Path.GetFullPath(model).TrimEnd('/')), size, timings);
        File.WriteAllText(output, profile.ToJson());
        Console.WriteLine($"wrote {output}");
        return 0;
    }
}
