using DiffusionCluster.Models.Weights;
using DiffusionCluster.Training.Loop;
using DiffusionCluster.Training.Trainers;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

public sealed class LoopTests : IDisposable
{
    readonly TinyCascade _cascade = new();

    public void Dispose() => _cascade.Dispose();

    PriorTrainer Prior()
    {
        manual_seed(3);
        return new PriorTrainer(TinyCascade.Prior, _cascade.Context(true));
    }

    [Fact]
    public void A_run_stopped_and_resumed_ends_with_exactly_the_weights_of_an_uninterrupted_run()
    {
        var straight = Prior();
        TrainingLoop.Run(straight, _cascade.Options("straight", 6), TextWriter.Null);

        var interrupted = _cascade.Options("resumed", 6);
        TrainingLoop.Run(Prior(), interrupted with { Steps = 3 }, TextWriter.Null);
        var resumed = Prior();
        var result = TrainingLoop.Run(resumed, interrupted, TextWriter.Null);

        Assert.Equal(6, result.Step);
        var logged = File.ReadAllLines(Path.Combine(interrupted.CheckpointFolder, TrainingLoop.LossLog)).Skip(1).Select(l => l.Split(',')[0]);
        Assert.Equal(new[] { "1", "2", "3", "4", "5", "6" }, logged);
        foreach (var (name, value) in straight.Trainable.state_dict())
            Assert.True((value - resumed.Trainable.state_dict()[name]).abs().max().item<float>() == 0, $"{name} differs after resume");
    }

    [Fact]
    public void Resuming_drops_the_steps_logged_after_the_last_checkpoint()
    {
        var options = _cascade.Options("killed", 4) with { CheckpointEvery = 2 };
        TrainingLoop.Run(Prior(), options with { Steps = 2 }, TextWriter.Null);
        // A run killed at step 3, after logging it but before its next checkpoint.
        var logPath = Path.Combine(options.CheckpointFolder, TrainingLoop.LossLog);
        File.AppendAllLines(logPath, ["3,9.99,0.001,1,1.0"]);

        TrainingLoop.Run(Prior(), options, TextWriter.Null);

        var rows = File.ReadAllLines(logPath).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(new[] { "1", "2", "3", "4" }, rows.Select(r => r[0]));
        Assert.NotEqual("9.99", rows[2][1]);
    }

    [Fact]
    public void Checkpoints_write_a_loss_log_and_export_the_ema_weights_to_the_model_folder()
    {
        var options = _cascade.Options("prior", 4) with { CheckpointEvery = 2 };

        TrainingLoop.Run(Prior(), options, TextWriter.Null);

        var log = File.ReadAllLines(Path.Combine(options.CheckpointFolder, TrainingLoop.LossLog));
        Assert.Equal("step,loss,learning_rate,grad_norm,seconds", log[0]);
        Assert.Equal(5, log.Length);
        var index = ModelIndex.Read(_cascade.ModelFolder);
        Assert.Equal("DiffusionPrior", index.Components["prior"]);
        Assert.True(File.Exists(Path.Combine(_cascade.ModelFolder, "prior", "model.safetensors")));
    }

    [Fact]
    public void Export_only_rewrites_the_model_folder_from_the_checkpoint()
    {
        var options = _cascade.Options("prior", 2);
        TrainingLoop.Run(Prior(), options, TextWriter.Null);
        var weights = Path.Combine(_cascade.ModelFolder, "prior", "model.safetensors");
        File.Delete(weights);

        var state = TrainingLoop.Export(Prior(), options, TextWriter.Null);

        Assert.Equal(2, state.Step);
        Assert.True(File.Exists(weights));
        Assert.Contains(Safetensors.ReadHeader(weights).Entries, e => e.Dtype == "F16");
    }

    [Fact]
    public void Resuming_with_another_batch_size_is_refused()
    {
        var options = _cascade.Options("prior", 2);
        TrainingLoop.Run(Prior(), options, TextWriter.Null);

        var error = Assert.Throws<InvalidOperationException>(() => TrainingLoop.Run(Prior(), options with { Steps = 4, BatchSize = 8 }, TextWriter.Null));

        Assert.Contains("batch 4", error.Message);
    }

    [Fact]
    public void A_time_limit_stops_early_with_a_checkpoint()
    {
        var options = _cascade.Options("prior", 1000) with { TimeLimit = TimeSpan.Zero };

        var result = TrainingLoop.Run(Prior(), options, TextWriter.Null);

        Assert.False(result.Finished);
        Assert.Equal(1, result.Step);
        Assert.True(File.Exists(Path.Combine(options.CheckpointFolder, TrainingLoop.StateFile)));
    }

    [Fact]
    public void Every_training_caption_fits_the_default_text_encoder()
    {
        var tokenizer = Models.Cascade.CascadeFolder.LoadTokenizer(_cascade.ModelFolder);
        for (int step = 0; step < 50; step++)
        {
            using var generator = new TorchSharp.torch.Generator((ulong)step);
            foreach (var caption in ShapesBatch.Draw(64, generator).Captions) tokenizer.Encode(caption);
        }
    }
}
