using System.CommandLine;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Training.Loop;
using DiffusionCluster.Training.Trainers;

namespace DiffusionCluster.Cli.Commands;

/// `train <stage>`: trains one stage of the cascade, resuming from its checkpoint folder when one exists,
/// and exports its EMA weights into the model folder at every checkpoint.
public static class TrainCommand
{
    /// Where `train` writes by default: a working folder, never the bundle (`export` copies from it).
    public const string WorkingFolder = "work/shapes-cascade";

    public static Command Create()
    {
        var command = new Command("train", "Trains one component of the cascade (resuming from its checkpoint folder) and writes its EMA weights into the model "
            + "folder at every checkpoint; components after CLIP read CLIP's frozen towers from that folder. recipes/shapes-cascade.sh trains them all in order.");
        foreach (var name in TrainerFactory.Names) command.Subcommands.Add(Component(name));
        command.Subcommands.Add(Bases());
        command.Subcommands.Add(Attributes());
        command.Subcommands.Add(Segmentation());
        return command;
    }

    static Option<string> Model() => CliOption.Model("the model folder to train into", WorkingFolder);

    static Command Component(string stageName)
    {
        var model = Model();
        var device = CliOption.Device();
        var threads = CliOption.Threads();
        var checkpoints = CliOption.Text("--checkpoints", "the checkpoint folder to resume from and write to", Path.Combine("checkpoints", stageName), "DIR");
        var steps = CliOption.Int("--steps", "training steps in all (a resumed run counts those done)", 2000, 1, 10_000_000);
        var batch = CliOption.Int("--batch", "batch size", 16, 1, 4096);
        var lr = CliOption.Double("--lr", "peak learning rate", 3e-4, 1e-7, 1);
        var warmup = CliOption.Int("--warmup", "learning-rate warm-up steps", 100, 0, 1_000_000);
        var ema = CliOption.Double("--ema", "EMA decay of the exported weights", 0.999, 0, 1);
        var checkpointEvery = CliOption.Int("--checkpoint-every", "steps between checkpoints (and exports)", 250, 1, 10_000_000);
        var logEvery = CliOption.Int("--log-every", "steps between loss lines", 10, 1, 1_000_000);
        var seed = CliOption.Int("--seed", "data and initialisation seed", 1, 0, int.MaxValue);
        var timeLimit = CliOption.OptionalDouble("--time-limit-minutes", "stop (with a checkpoint) after this long; run again to resume", 0.01, 100_000, "M");
        var initFrom = CliOption.OptionalText("--init-from", "start from these weights instead of random ones", "WEIGHTS.safetensors");
        var exportOnly = CliOption.Flag("--export-only", "write the checkpoint's EMA weights into the model folder without training");
        var command = new Command(stageName, $"Trains {stageName}.") { model, device, threads, checkpoints, steps, batch, lr, warmup, ema, checkpointEvery, logEvery, seed, timeLimit, initFrom, exportOnly };
        var objectWeight = stageName is "decoder64" or "layout" ? CliOption.Double("--object-weight", "loss weight of object pixels against background", 1, 1, 1000, "W") : null;
        if (objectWeight is not null) command.Options.Add(objectWeight);
        bool superResolution = stageName is "sr256" or "sr1024";
        var generatedInputs = superResolution ? CliOption.OptionalText("--generated-inputs", "a folder of the cascade's own pictures (`train bases`) to condition a share of rows on", "DIR") : null;
        var generatedShare = superResolution ? CliOption.Double("--generated-share", "the share of rows conditioned on a generated picture when --generated-inputs is given", 0.5, 0, 1) : null;
        var generatedTarget = superResolution ? CliOption.Text("--generated-target",
            "what a row conditioned on a generated picture learns to make: render (the exact render of its scene) or flat (the picture in its scene's flat colours)", "render", "render|flat") : null;
        generatedTarget?.Validators.Add(r =>
        {
            if (!Enum.TryParse<GeneratedTarget>(r.GetValueOrDefault<string>(), ignoreCase: true, out _)) r.AddError($"--generated-target {r.GetValueOrDefault<string>()}: must be render or flat");
        });
        var flatFrom = superResolution ? CliOption.OptionalText("--flat-from", "with --generated-target flat: a folder of the same scenes as --generated-inputs "
            + "at the stage's output size (`train bases --enlarge`), whose pictures the flat targets snap instead of the input's bicubic enlargement", "DIR") : null;
        if (superResolution) { command.Options.Add(generatedInputs!); command.Options.Add(generatedShare!); command.Options.Add(generatedTarget!); command.Options.Add(flatFrom!); }
        command.SetAction(line =>
        {
            if (line.GetValue(threads) is > 0 and var n) TorchSharp.torch.set_num_threads(n);
            var options = new TrainingOptions
            {
                CheckpointFolder = line.GetValue(checkpoints)!,
                ModelFolder = line.GetValue(model)!,
                Steps = line.GetValue(steps),
                BatchSize = line.GetValue(batch),
                LearningRate = line.GetValue(lr),
                WarmupSteps = line.GetValue(warmup),
                EmaDecay = line.GetValue(ema),
                CheckpointEvery = line.GetValue(checkpointEvery),
                LogEvery = line.GetValue(logEvery),
                Seed = (ulong)line.GetValue(seed),
                TimeLimit = line.GetValue(timeLimit) is { } minutes ? TimeSpan.FromMinutes(minutes) : null,
                InitFrom = line.GetValue(initFrom),
            };
            var bases = generatedInputs is not null && line.GetValue(generatedInputs) is { } folder ? GeneratedBases.Load(folder) : null;
            if (bases is null && superResolution && (line.Given(generatedShare!) || line.Given(generatedTarget!) || line.Given(flatFrom!)))
                throw new ArgumentException("--generated-share, --generated-target and --flat-from shape the rows drawn from --generated-inputs; give that folder too");
            var target = generatedTarget is null ? GeneratedTarget.Render : Enum.Parse<GeneratedTarget>(line.GetValue(generatedTarget)!, ignoreCase: true);
            var snapFolder = flatFrom is null ? null : line.GetValue(flatFrom);
            if (snapFolder is not null && target != GeneratedTarget.Flat) throw new ArgumentException("--flat-from gives the pictures flat targets snap; it needs --generated-target flat");
            var snapped = snapFolder is null ? null : GeneratedBases.Load(snapFolder);
            var stage = TrainerFactory.Create(stageName, options.ModelFolder, DeviceOption.Parse(line.GetValue(device)!), objectWeight is null ? 1 : line.GetValue(objectWeight),
                bases, bases is null ? 0 : line.GetValue(generatedShare!), target, snapped);
            if (line.GetValue(exportOnly))
            {
                TrainingLoop.Export(stage, options, Console.Out);
                return 0;
            }
            var result = TrainingLoop.Run(stage, options, Console.Out);
            Console.WriteLine($"{stageName}: step {result.Step}/{options.Steps}, last loss {result.LastLoss:F4}, {result.TrainedSeconds / 60:F1} min trained{(result.Finished ? "" : " (stopped at the time limit; run again to resume)")}");
            return 0;
        });
        return command;
    }

    /// `train bases`: the cascade's own pictures of training scenes, kept where the parser reads them right, for the
    /// SR stages to train on (GeneratedBases).
    static Command Bases()
    {
        var model = CliOption.Model("the cascade that draws the pictures", WorkingFolder);
        var device = CliOption.Device();
        var threads = CliOption.Threads();
        var output = CliOption.RequiredText("--out", "the folder to write the pictures and bases.jsonl into", "DIR");
        var count = CliOption.Int("--count", "scenes to draw (those drawn wrong are not kept)", 2000, 1, 1_000_000);
        var size = CliOption.Int("--size", "64: the decoder's pictures (sr256's inputs); 256: the same through sr256 (sr1024's inputs)", 64, 64, 256);
        size.Validators.Add(r =>
        {
            if (!GeneratedBases.Sizes.Contains(r.GetValueOrDefault<int>())) r.AddError($"--size {r.GetValueOrDefault<int>()}: must be {string.Join(" or ", GeneratedBases.Sizes)}");
        });
        var batch = CliOption.Int("--batch", "pictures drawn at once", 16, 1, 4096);
        var seed = CliOption.Int("--seed", "which training scenes are drawn", 1, 0, int.MaxValue);
        var enlarge = CliOption.OptionalText("--enlarge", "instead of drawing, write this folder's 64 px pictures through sr256 (same ids and scenes): "
            + "the pictures sr256's --flat-from snaps", "DIR");
        var command = new Command("bases", "Draws training-split scenes with the cascade (its sampling defaults) and keeps the pictures the scene parser reads "
            + "right, with their scenes, for the SR stages' --generated-inputs: they learn to clean the errors of the stage before them.")
            { model, device, threads, output, count, size, batch, seed, enlarge };
        command.SetAction(line =>
        {
            if (line.GetValue(threads) is > 0 and var n) TorchSharp.torch.set_num_threads(n);
            if (line.GetValue(enlarge) is not null && (line.Given(count) || line.Given(size) || line.Given(seed)))
                throw new ArgumentException("--enlarge writes the pictures of its folder; --count, --size and --seed draw new ones");
            var pipeline = new CascadePipeline(line.GetValue(model)!, DeviceOption.Parse(line.GetValue(device)!));
            var folder = line.GetValue(output)!;
            if (line.GetValue(enlarge) is { } from)
            {
                int written = GeneratedBases.Enlarge(pipeline, from, folder, line.GetValue(batch), Console.Error);
                Console.WriteLine($"bases: enlarged {written} pictures of {from} to 256 px in {folder}");
                return 0;
            }
            int drawn = line.GetValue(count);
            int kept = GeneratedBases.Generate(pipeline, folder, drawn, line.GetValue(size), line.GetValue(seed), line.GetValue(batch), Console.Error);
            Console.WriteLine($"bases: kept {kept} of {drawn} pictures ({(double)kept / drawn:P1} read right) in {folder}");
            return 0;
        });
        return command;
    }

    /// `train attributes`: DiffAE's attribute directions, one per colour and shape, fitted in the CLIP image
    /// embedding of labelled renders and written to the model folder's attributes/.
    static Command Attributes()
    {
        var train = CliOption.Int("--train", "labelled renders to fit on", 400, 20, 100_000);
        var heldOut = CliOption.Int("--held-out", "renders to report accuracy on", 200, 10, 100_000);
        var model = Model();
        var device = CliOption.Device();
        var command = new Command("attributes", "Fits DiffAE's attribute directions (one per colour and shape, logistic regression in the CLIP image "
            + "embedding of labelled renders) into the model folder and reports their held-out accuracy; `edit attribute` uses them.") { train, heldOut, model, device };
        command.SetAction(line =>
        {
            var folder = line.GetValue(model)!;
            int held = line.GetValue(heldOut);
            var operations = new ImageOperations(new CascadePipeline(folder, DeviceOption.Parse(line.GetValue(device)!)));
            var (directions, fits) = new AttributeDirectionsTrainer(operations, Console.Error).Train(line.GetValue(train), held);
            directions.Save(folder);
            Console.WriteLine($"attribute | positives | balanced accuracy, training | held-out ({held} renders)");
            foreach (var f in fits) Console.WriteLine($"{f.Attribute} | {f.Positives}/{f.TrainScenes} | {f.TrainAccuracy:P1} | {f.HeldOutAccuracy:P1}");
            Console.WriteLine($"wrote {AttributeDirections.PathIn(folder)} ({directions.Names.Count} attributes)");
            return 0;
        });
        return command;
    }

    /// `train segmentation`: the per-pixel classifier on the 64px decoder's features, trained on N labelled renders
    /// and written to the model folder's segmentation/, with its mean IoU on held-out renders.
    static Command Segmentation()
    {
        var labelled = CliOption.Int("--labelled", "labelled renders to train on", 50, 1, 100_000);
        var heldOut = CliOption.Int("--held-out", "renders to report mean IoU on", 50, 1, 100_000);
        var steps = CliOption.Int("--steps", "training steps", 1500, 1, 1_000_000);
        // The bundled head reads the decoder at three noise levels and from every decoder-path block.
        var timesteps = CliOption.Ints("--timesteps", "noise levels the decoder's features are read at", "50,150,400", 0, 100_000);
        var blocks = CliOption.Ints("--blocks", "decoder-path blocks read", "0,1,2,3,4,5", 0, 1024);
        var model = Model();
        var device = CliOption.Device();
        var command = new Command("segmentation", "Trains the per-pixel classifier on decoder features of N labelled renders into the model folder "
            + "and reports its mean IoU on held-out renders; `edit segment` uses it.") { labelled, heldOut, steps, timesteps, blocks, model, device };
        command.SetAction(line =>
        {
            var folder = line.GetValue(model)!;
            int count = line.GetValue(labelled), held = line.GetValue(heldOut);
            var torchDevice = DeviceOption.Parse(line.GetValue(device)!);
            var cascade = new CascadePipeline(folder, torchDevice);
            var config = new SegmentationConfig { Classes = SegmentationTrainer.Classes, Timesteps = line.GetValue(timesteps)!, Blocks = line.GetValue(blocks)! };
            var segmenter = new SegmentationTrainer(torchDevice).Train(cascade.Decoder, config, SegmentationTrainer.TrainScenes(count), line.GetValue(steps), seed: (ulong)count);
            segmenter.Save(folder);
            var heldOutScenes = SegmentationTrainer.HeldOutScenes(held);
            Console.WriteLine($"segmentation: {count} labelled renders, mean IoU {SegmentationTrainer.MeanIou(segmenter, heldOutScenes):P1} on {held} held-out "
                + $"(all-background {SegmentationTrainer.AllBackgroundIou(heldOutScenes):P1}); wrote {folder}/segmentation");
            return 0;
        });
        return command;
    }
}
