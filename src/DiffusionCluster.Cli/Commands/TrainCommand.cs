using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models;
using DiffusionCluster.Training.Loop;
using DiffusionCluster.Training.Stages;

namespace DiffusionCluster.Cli.Commands;

/// `train <stage>`: trains one stage of the cascade, resuming from its checkpoint folder when one exists,
/// and exports its EMA weights into the model folder at every checkpoint.
public static class TrainCommand
{
    public static int Run(Arguments args)
    {
        var stageName = args.Positionals.FirstOrDefault()
            ?? throw new UsageException($"train needs a stage: {string.Join(", ", StageFactory.Names)}");
        var model = args.Text("model", "models/shapes-cascade");
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

        var stage = StageFactory.Create(stageName, model, device, objectWeight);
        if (exportOnly)
        {
            TrainingLoop.Export(stage, options, Console.Out);
            return 0;
        }
        var result = TrainingLoop.Run(stage, options, Console.Out);
        Console.WriteLine($"{stageName}: step {result.Step}/{options.Steps}, last loss {result.LastLoss:F4}, {result.TrainedSeconds / 60:F1} min trained{(result.Finished ? "" : " (stopped at the time limit; run again to resume)")}");
        return 0;
    }
}
