using DiffusionCluster.Training.Loop;
using DiffusionCluster.Training.Trainers;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

public sealed class TrainerTests : IDisposable
{
    readonly TinyCascade _cascade = new();

    public void Dispose() => _cascade.Dispose();

    public static TheoryData<string> Stages => new() { "clip", "clip-image", "noisy-clip", "prior", "decoder64", "decoder64 object-weighted", "sr256", "layout" };

    ITrainer Create(string name)
    {
        manual_seed(1);
        return name switch
        {
            "clip" => new ClipTrainer(TinyCascade.Text, TinyCascade.Image, Path.Combine(_cascade.Root, "vocab"), CPU),
            "clip-image" => new ClipImageTrainer(_cascade.Context(false)),
            "noisy-clip" => new NoisyClipTrainer(TinyCascade.Image with { TimeConditioned = true }, _cascade.Context(false)),
            "prior" => new PriorTrainer(TinyCascade.Prior, _cascade.Context(true)),
            "decoder64" => new DecoderTrainer(TinyCascade.Decoder, _cascade.Context(true)),
            "decoder64 object-weighted" => new DecoderTrainer(TinyCascade.Decoder, _cascade.Context(true), objectWeight: 10),
            "layout" => new LayoutTrainer(TinyCascade.Layout, _cascade.Context(false), objectWeight: 5),
            _ => new SuperResolutionTrainer("sr256", TinyCascade.Sr, lowSize: 64, crop: 64, maxAugmentationLevel: 500, _cascade.Context(false)),
        };
    }

    [Theory]
    [MemberData(nameof(Stages))]
    public void Training_lowers_the_loss_on_a_fixed_batch(string name)
    {
        var stage = Create(name);
        var optimizer = new Optimization.AdamW(stage.Trainable.named_parameters());
        double Loss()
        {
            using var generator = new TorchSharp.torch.Generator(5);
            using var loss = stage.Loss(0, 8, generator);
            return loss.item<float>();
        }
        double first = Loss();
        for (int i = 0; i < 15; i++)
        {
            using var scope = NewDisposeScope();
            using var generator = new TorchSharp.torch.Generator(5);
            var loss = stage.Loss(0, 8, generator);
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.ClipGradients(1.0);
            optimizer.Step(1e-3);
        }
        double last = Loss();

        Assert.True(double.IsFinite(last), $"{name}: loss {last}");
        Assert.True(last < first, $"{name}: loss went from {first} to {last}");
    }

    [Fact]
    public void The_object_weight_changes_the_loss_and_is_refused_below_one()
    {
        double Loss(double objectWeight)
        {
            manual_seed(1);
            var stage = new DecoderTrainer(TinyCascade.Decoder, _cascade.Context(true), objectWeight);
            using var generator = new Generator(5);
            using var loss = stage.Loss(0, 4, generator);
            return loss.item<float>();
        }
        Assert.NotEqual(Loss(1), Loss(10), 4);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DecoderTrainer(TinyCascade.Decoder, _cascade.Context(true), objectWeight: 0.5));
        Assert.Contains("at least 1", error.Message);
    }
}
