using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Models.Text;
using DiffusionCluster.Shapes;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Training.Trainers;

/// What the stages after CLIP share: the model folder, the device, and CLIP's frozen text (and image) towers.
public sealed class TrainingContext
{
    public TrainingContext(string modelFolder, Device device, bool needsImageEncoder)
    {
        ModelFolder = modelFolder;
        Device = device;
        Tokenizer = CascadeFolder.LoadTokenizer(modelFolder);
        TextEncoder = Frozen(CascadeFolder.LoadTextEncoder(modelFolder, device));
        if (needsImageEncoder) ImageEncoder = Frozen(CascadeFolder.LoadImageEncoder(modelFolder, device: device));
    }

    public string ModelFolder { get; }
    public Device Device { get; }
    public TextTokenizer Tokenizer { get; }
    public TextTransformer TextEncoder { get; }
    public ImageEncoder? ImageEncoder { get; }

    public TextEncoding EncodeText(IReadOnlyList<string> captions)
    {
        using var _ = no_grad();
        using var tokens = Tokenizer.EncodeBatch(captions, Device);
        return TextEncoder.forward(tokens);
    }

    /// CLIP image embeddings of 64px images, normalised into the space the prior and decoder work in.
    public Tensor ImageEmbedding(Tensor images64)
    {
        using var _ = no_grad();
        using var raw = ImageEncoder!.forward(images64);
        return ClipSpace.Normalise(raw);
    }

    static T Frozen<T>(T module) where T : nn.Module
    {
        module.eval();
        foreach (var p in module.parameters()) p.requires_grad = false;
        return module;
    }

    /// Training timesteps, uniform over the schedule; with terminalFraction > 0 that share of rows (in expectation) is
    /// drawn at the last timestep instead, where a few-step sample takes its first and largest step.
    public static Tensor Timesteps(int batchSize, Diffusion.NoiseSchedule schedule, Generator generator, Device device, double terminalFraction = 0)
    {
        if (terminalFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(terminalFraction), terminalFraction, "allowed 0 to 1");
        var t = randint(0, schedule.Length, new long[] { batchSize }, dtype: int64, generator: generator);
        if (terminalFraction > 0)
        {
            using var terminal = rand(new long[] { batchSize }, generator: generator) < terminalFraction;
            t = t.masked_fill_(terminal, schedule.Length - 1);
        }
        return t.to(device);
    }

    /// Which rows drop their conditioning (classifier-free guidance training).
    public static Tensor DropMask(int batchSize, double probability, Generator generator, Device device) =>
        (rand(new long[] { batchSize }, generator: generator) < probability).to(device);

    /// Min-SNR-gamma weighting (Hang et al.) of a denoising loss in the model's own parameterization, per sample.
    /// pixelWeights [B, 1, H, W], when given, makes each sample's error a weighted mean over its pixels.
    public static Tensor MinSnrLoss(Tensor prediction, Tensor target, Tensor alphaBar, double gamma, PredictionType type, Tensor? pixelWeights = null)
    {
        using var scope = NewDisposeScope();
        var squared = F.mse_loss(prediction, target, reduction: nn.Reduction.None);
        var dims = new long[] { 1, 2, 3 };
        var perSample = pixelWeights is null
            ? squared.mean(dims)
            : (squared * pixelWeights).sum(dims) / (pixelWeights.expand_as(squared).sum(dims));
        return (MinSnrWeight(alphaBar, gamma, type).flatten() * perSample).mean().MoveToOuterDisposeScope();
    }

    /// Every parameterization is weighted so that its loss is min(SNR + 1, gamma) times the x0 error: for v that is
    /// min(SNR + 1, gamma) / (SNR + 1) (the v error is SNR + 1 times the x0 error), for x0 min(SNR + 1, gamma), for
    /// eps min(SNR + 1, gamma) / SNR. SNR + 1 takes SNR's place in Hang et al.'s min(SNR, gamma): the literal form is
    /// 0 at the pure-noise end of a zero-terminal-SNR schedule and about SNR over the noisiest fifth of it, the steps
    /// where a sample's layout is decided (a decoder trained that way got almost no gradient there).
    public static Tensor MinSnrWeight(Tensor alphaBar, double gamma, PredictionType type)
    {
        using var scope = NewDisposeScope();
        using Scalar one = 1, floor = 1e-8, cap = gamma; // held to the end: TorchRuntime says why
        var snrPlusOne = one / (one - alphaBar).clamp_min(floor);
        var x0Weight = snrPlusOne.clamp_max(cap);
        var weight = type switch
        {
            PredictionType.Velocity => x0Weight / snrPlusOne,
            PredictionType.Sample => x0Weight,
            PredictionType.Epsilon => x0Weight / (snrPlusOne - one).clamp_min(floor),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };
        return weight.MoveToOuterDisposeScope();
    }
}
