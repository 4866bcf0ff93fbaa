using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DiffusionCluster.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Loop;

/// The training loop every stage shares: AdamW with linear warm-up, gradient clipping, EMA, a loss log
/// (loss.csv), a progress line with ETA, and checkpoints it resumes from exactly.
public static class TrainingLoop
{
    public const string WeightsFile = "model.safetensors";
    public const string EmaFile = "ema.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "state.json";
    public const string LossLog = "loss.csv";

    public sealed record CheckpointState(string Stage, long Step, double TrainedSeconds, ulong Seed, int BatchSize);

    public sealed record Result(long Step, double LastLoss, double TrainedSeconds, bool Finished);

    public static Result Run(ITrainer stage, TrainingOptions options, TextWriter progress)
    {
        Diffusion.TorchRuntime.PrepareForTraining();
        progress.WriteLine($"{stage.Name}: {Diffusion.TorchRuntime.Describe()}");
        Directory.CreateDirectory(options.CheckpointFolder);
        var model = stage.Trainable;
        model.train();
        bool hasCheckpoint = File.Exists(Path.Combine(options.CheckpointFolder, StateFile));
        if (options.InitFrom is not null && !hasCheckpoint) WarmStart.Load(model, options.InitFrom, progress);
        else if (options.InitFrom is not null) progress.WriteLine($"{stage.Name}: a checkpoint exists, so --init-from is not used");
        var optimizer = new AdamW(model.named_parameters());
        var ema = new ExponentialMovingAverage(model, options.EmaDecay);
        var state = Resume(stage, options, optimizer, ema, progress);
        long step = state?.Step ?? 0;
        double trainedBefore = state?.TrainedSeconds ?? 0;

        var clock = Stopwatch.StartNew();
        var window = new List<double>();
        double lastLoss = double.NaN;
        var logPath = Path.Combine(options.CheckpointFolder, LossLog);
        if (state is not null) TrimLossLog(logPath, state.Step);
        using var log = new StreamWriter(logPath, append: true);
        if (step == 0) log.WriteLine("step,loss,learning_rate,grad_norm,seconds");
        while (step < options.Steps)
        {
            using (var scope = NewDisposeScope())
            {
                var generator = new Generator(options.Seed * 1_000_003UL + (ulong)step);
                var loss = stage.Loss(step, options.BatchSize, generator);
                optimizer.ZeroGrad();
                loss.backward();
                double gradNorm = optimizer.ClipGradients(options.MaxGradientNorm);
                double lr = options.LearningRate * Math.Min(1.0, (step + 1.0) / Math.Max(1, options.WarmupSteps));
                optimizer.Step(lr);
                step++;
                ema.Update(step);
                lastLoss = loss.item<float>();
                if (double.IsNaN(lastLoss)) throw new InvalidOperationException($"{stage.Name}: loss became NaN at step {step}; lower --lr");
                window.Add(lastLoss);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step},{lastLoss:G6},{lr:G4},{gradNorm:G4},{trainedBefore + clock.Elapsed.TotalSeconds:F1}"));
            }

            bool timeUp = options.TimeLimit is { } limit && clock.Elapsed >= limit;
            if (step % options.LogEvery == 0 || step == options.Steps || timeUp)
            {
                double perStep = clock.Elapsed.TotalSeconds / (step - (state?.Step ?? 0));
                var eta = TimeSpan.FromSeconds(perStep * (options.Steps - step));
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{stage.Name} step {step}/{options.Steps} {ProgressLine.Bar(step, options.Steps)} loss {window.Average():F4} {perStep:F2} s/step ETA {eta:hh\\:mm\\:ss}"));
                window.Clear();
                log.Flush();
            }
            if (step % options.CheckpointEvery == 0 || step == options.Steps || timeUp)
            {
                Save(stage, options, optimizer, ema, new CheckpointState(stage.Name, step, trainedBefore + clock.Elapsed.TotalSeconds, options.Seed, options.BatchSize));
                progress.WriteLine($"{stage.Name}: checkpoint at step {step} in {options.CheckpointFolder}");
            }
            if (timeUp) break;
        }
        return new Result(step, lastLoss, trainedBefore + clock.Elapsed.TotalSeconds, step >= options.Steps);
    }

    /// Writes a checkpoint's EMA weights into the model folder without training (e.g. after an export format change).
    public static CheckpointState Export(ITrainer stage, TrainingOptions options, TextWriter progress)
    {
        if (options.ModelFolder is null) throw new ArgumentException("export needs a model folder");
        var optimizer = new AdamW(stage.Trainable.named_parameters());
        var ema = new ExponentialMovingAverage(stage.Trainable, options.EmaDecay);
        var state = Resume(stage, options, optimizer, ema, progress)
            ?? throw new InvalidOperationException($"{options.CheckpointFolder} holds no checkpoint to export");
        ExportEma(stage, options.ModelFolder, ema);
        progress.WriteLine($"{stage.Name}: exported the EMA weights of step {state.Step} to {options.ModelFolder}");
        return state;
    }

    static CheckpointState? Resume(ITrainer stage, TrainingOptions options, AdamW optimizer, ExponentialMovingAverage ema, TextWriter progress)
    {
        var statePath = Path.Combine(options.CheckpointFolder, StateFile);
        if (!File.Exists(statePath)) return null;
        var state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(statePath))
            ?? throw new InvalidOperationException($"{statePath} is empty");
        if (state.Stage != stage.Name)
            throw new InvalidOperationException($"{options.CheckpointFolder} holds a {state.Stage} checkpoint, not {stage.Name}");
        if (state.Seed != options.Seed || state.BatchSize != options.BatchSize)
            throw new InvalidOperationException($"{options.CheckpointFolder} was trained with seed {state.Seed} and batch {state.BatchSize}; resume with the same (asked: seed {options.Seed}, batch {options.BatchSize})");
        Models.Weights.Safetensors.LoadInto(Path.Combine(options.CheckpointFolder, WeightsFile), stage.Trainable.state_dict());
        optimizer.Load(Path.Combine(options.CheckpointFolder, OptimizerFile));
        ema.Load(Path.Combine(options.CheckpointFolder, EmaFile));
        progress.WriteLine($"{stage.Name}: resuming from step {state.Step} ({state.TrainedSeconds / 60:F1} min trained)");
        return state;
    }

    /// A run killed after its last checkpoint logged steps that the resumed run trains again; keep one row per
    /// step up to the checkpoint, the latest run's where a step was logged twice, so the log reads as one run.
    static void TrimLossLog(string path, long checkpointStep)
    {
        if (!File.Exists(path)) return;
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return;
        var rows = new SortedDictionary<long, string>();
        foreach (var line in lines.Skip(1))
            if (long.TryParse(line.Split(',')[0], CultureInfo.InvariantCulture, out var step) && step <= checkpointStep) rows[step] = line;
        File.WriteAllLines(path, rows.Values.Prepend(lines[0]));
    }

    static void Save(ITrainer stage, TrainingOptions options, AdamW optimizer, ExponentialMovingAverage ema, CheckpointState state)
    {
        // Write everything beside, then swap in, so a kill mid-save leaves the previous checkpoint whole.
        var folder = options.CheckpointFolder;
        var files = new[] { WeightsFile, OptimizerFile, EmaFile, StateFile };
        Models.Weights.Safetensors.Save(Path.Combine(folder, WeightsFile + ".tmp"), stage.Trainable.state_dict());
        optimizer.Save(Path.Combine(folder, OptimizerFile + ".tmp"));
        ema.Save(Path.Combine(folder, EmaFile + ".tmp"));
        File.WriteAllText(Path.Combine(folder, StateFile + ".tmp"), JsonSerializer.Serialize(state));
        foreach (var file in files) File.Move(Path.Combine(folder, file + ".tmp"), Path.Combine(folder, file), overwrite: true);

        if (options.ModelFolder is not null) ExportEma(stage, options.ModelFolder, ema);
    }

    /// Ship the EMA weights: swap them in, export, swap the training weights back.
    static void ExportEma(ITrainer stage, string modelFolder, ExponentialMovingAverage ema)
    {
        // The scope frees the copies and every temporary on this thread, not on the finalizer's (see Safetensors.Save).
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var live = stage.Trainable.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        foreach (var (name, value) in stage.Trainable.state_dict()) value.copy_(ema.Shadow[name]);
        stage.Export(modelFolder);
        foreach (var (name, value) in stage.Trainable.state_dict()) value.copy_(live[name]);
    }

}
