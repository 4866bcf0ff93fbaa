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

    /// Components fitted on a frozen cascade in one pass rather than by the training loop.
    static readonly string[] FittedComponents = ["attributes", "segmentation"];

    public static int Run(Arguments args)
    {
        var stageName = args.Positionals.FirstOrDefault()
            ?? throw new UsageException($"train needs a component: {string.Join(", ", TrainerFactory.Names.Concat(FittedComponents))}");
        if (stageName == "attributes") return FitAttributes(args);
        if (stageName == "segmentation") return FitSegmentation(args);
        var model = args.Text("model", WorkingFolder);
        var device = DeviceOption.Parse(args.Text("device", "cpu"));
        if (args.Int("threads", 0, 0, 1024) is > 0 and var threads) TorchSharp.torch.set_num_threads(threads);
        var options = new TrainingOptions
        {
            CheckpointFolder = args.Text("checkpoints", Path.Combine("checkpoints", stageName)),
            ModelFolder = model,
            Steps = args.Int("steps", 2000, 1, 10_000_000),
            BatchSize = args.Int("batch", 16, 1, 4096),
            LearningRate = args.Double("lr", 3e-4, 1e-7, 1),
            WarmupSteps = args.Int("warmup", 100, 0, 1_000_000),
            EmaDecay = args.Double("ema", 0.999, 0, 1),
            CheckpointEvery = args.Int("checkpoint-every", 250, 1, 10_000_000),
            LogEvery = args.Int("log-every", 10, 1, 1_000_000),
            Seed = (ulong)args.Int("seed", 1, 0, int.MaxValue),
            TimeLimit = args.Text("time-limit-minutes") is { } minutes
                ? TimeSpan.FromMinutes(args.Double("time-limit-minutes", 0, 0.01, 100_000))
                : null,
            InitFrom = args.Text("init-from"),
        };
        bool exportOnly = args.Flag("export-only");
        double objectWeight = args.Double("object-weight", 1, 1, 1000);
        args.RejectUnknown();
        if (objectWeight != 1 && stageName is not ("decoder64" or "layout"))
            throw new UsageException($"--object-weight applies to decoder64 and layout only, not {stageName}");

        var stage = TrainerFactory.Create(stageName, model, device, objectWeight);
        if (exportOnly)
        {
            TrainingLoop.Export(stage, options, Console.Out);
            return 0;
        }
        var result = TrainingLoop.Run(stage, options, Console.Out);
        Console.WriteLine($"{stageName}: step {result.Step}/{options.Steps}, last loss {result.LastLoss:F4}, {result.TrainedSeconds / 60:F1} min trained{(result.Finished ? "" : " (stopped at the time limit; run again to resume)")}");
        return 0;
    }

    /// `train attributes`: DiffAE's attribute directions, one per colour and shape, fitted in the CLIP image
    /// embedding of labelled renders and written to the model folder's attributes/.
    static int FitAttributes(Arguments args)
    {
        int train = args.Int("train", 400, 20, 100_000);
        int heldOut = args.Int("held-out", 200, 10, 100_000);
        var model = args.Text("model", WorkingFolder);
        var device = DeviceOption.Parse(args.Text("device", "cpu"));
        args.RejectUnknown();
        var operations = new ImageOperations(new CascadePipeline(model, device));
        var (directions, fits) = new AttributeDirectionsTrainer(operations, Console.Error).Train(train, heldOut);
        directions.Save(model);
        Console.WriteLine($"attribute | positives | balanced accuracy, training | held-out ({heldOut} renders)");
        foreach (var f in fits) Console.WriteLine($"{f.Attribute} | {f.Positives}/{f.TrainScenes} | {f.TrainAccuracy:P1} | {f.HeldOutAccuracy:P1}");
        Console.WriteLine($"wrote {AttributeDirections.PathIn(model)} ({directions.Names.Count} attributes)");
        return 0;
    }

    /// `train segmentation`: the per-pixel classifier on the 64px decoder's features, trained on N labelled renders
    /// and written to the model folder's segmentation/, with its mean IoU on held-out renders.
    static int FitSegmentation(Arguments args)
    {
        int labelled = args.Int("labelled", 50, 1, 100_000);
        int heldOut = args.Int("held-out", 50, 1, 100_000);
        int steps = args.Int("steps", 1500, 1, 1_000_000);
        // The bundled head reads the decoder at three noise levels and from every decoder-path block.
        var timesteps = args.Ints("timesteps", "50,150,400", 0, 100_000);
        var blocks = args.Ints("blocks", "0,1,2,3,4,5", 0, 1024);
        var model = args.Text("model", WorkingFolder);
        var device = DeviceOption.Parse(args.Text("device", "cpu"));
        args.RejectUnknown();
        var cascade = new CascadePipeline(model, device);
        var config = new SegmentationConfig { Classes = SegmentationTrainer.Classes, Timesteps = timesteps, Blocks = blocks };
        var segmenter = new SegmentationTrainer(device).Train(cascade.Decoder, config, SegmentationTrainer.TrainScenes(labelled), steps, seed: (ulong)labelled);
        segmenter.Save(model);
        var heldOutScenes = SegmentationTrainer.HeldOutScenes(heldOut);
        Console.WriteLine($"segmentation: {labelled} labelled renders, mean IoU {SegmentationTrainer.MeanIou(segmenter, heldOutScenes):P1} on {heldOut} held-out "
            + $"(all-background {SegmentationTrainer.AllBackgroundIou(heldOutScenes):P1}); wrote {model}/segmentation");
        return 0;
    }
}
