using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// A super-resolution stage (SR3 / Imagen style): trained on crops of the exact high-resolution render (as
/// DALL-E 2 trained its largest SR on quarter-size crops), most of them on an object's outline (CropSampler),
/// conditioned on the same window of the exact low-resolution render, noised to a random augmentation level it is
/// told, and on the caption's tokens.
/// With predicts_residual the target is the crop minus bicubic upsampling of its low-resolution window.
/// Given the cascade's own pictures (GeneratedBases), that share of rows is conditioned on a window of one of them,
/// not noised, instead of the exact low-resolution render, with the exact render of its scene or the picture in its
/// scene's flat colours (FlatTarget) as the target: the stage learns to clean the errors of the stage before it rather
/// than magnify them.
public sealed class SuperResolutionTrainer : ITrainer
{
    const double ConditionDropout = 0.1;
    const double MinSnrGamma = 5;
    /// A quarter of the rows train the estimate from pure noise (t = T), which a 2-step sample mostly is (its second
    /// step is t = 0); uniform timesteps give it one row in a thousand.
    const double TerminalFraction = 0.25;

    readonly TrainingContext _context;
    readonly UNet _unet;
    readonly NoiseSchedule _schedule;

    /// name: "sr256" or "sr1024"; lowSize: the input resolution; crop: the training window at output resolution.
    public SuperResolutionTrainer(string name, UNetConfig config, int lowSize, int crop, int maxAugmentationLevel, TrainingContext context,
        GeneratedBases? generatedInputs = null, double generatedShare = 0, GeneratedTarget generatedTarget = GeneratedTarget.Render, GeneratedBases? flatFrom = null)
    {
        if (generatedShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(generatedShare), generatedShare, "the share of generated inputs is 0 to 1");
        if (generatedInputs is not null && generatedInputs.Size != lowSize)
            throw new ArgumentException($"{name} reads {lowSize} px inputs; the pictures in {generatedInputs.Folder} are {generatedInputs.Size} px");
        if (config.LowResChannels == 0) throw new ArgumentException($"{name} needs a U-Net with low_res_channels > 0");
        int factor = config.SampleSize / lowSize;
        if (factor * lowSize != config.SampleSize || crop % factor != 0 || crop % config.SizeMultiple != 0 || crop > config.SampleSize)
            throw new ArgumentException($"{name}: crop {crop} must divide by the upscale factor {factor} and by {config.SizeMultiple}, and fit in {config.SampleSize}");
        Name = name;
        Config = config;
        LowSize = lowSize;
        Crop = crop;
        MaxAugmentationLevel = maxAugmentationLevel;
        GeneratedInputs = generatedInputs;
        GeneratedShare = generatedInputs is null ? 0 : generatedShare;
        GeneratedTarget = generatedTarget;
        if (flatFrom is not null)
        {
            if (generatedInputs is null || generatedTarget != GeneratedTarget.Flat)
                throw new ArgumentException("pictures for flat targets to snap need generated inputs with flat targets");
            if (flatFrom.Size != config.SampleSize || !flatFrom.Entries.Select(e => e.Id).SequenceEqual(generatedInputs.Entries.Select(e => e.Id)))
                throw new ArgumentException($"{flatFrom.Folder} must hold {config.SampleSize} px pictures of the same ids as {generatedInputs.Folder} (`train bases --enlarge`); "
                    + $"it holds {flatFrom.Entries.Count} at {flatFrom.Size} px against {generatedInputs.Entries.Count}");
        }
        FlatFrom = flatFrom;
        _context = context;
        _schedule = config.Diffusion.BuildSchedule();
        _unet = new UNet(config);
        _unet.to(context.Device);
    }

    public string Name { get; }
    public UNetConfig Config { get; }
    public int LowSize { get; }
    public int Crop { get; }
    public int MaxAugmentationLevel { get; }
    public GeneratedBases? GeneratedInputs { get; }
    /// The share of rows conditioned on a generated picture (0 without GeneratedInputs).
    public double GeneratedShare { get; }
    public GeneratedTarget GeneratedTarget { get; }
    /// The same scenes as GeneratedInputs at the output size, enlarged by an SR stage trained towards renders
    /// (`train bases --enlarge`): what flat targets snap, instead of the input's bicubic enlargement, whose corners at
    /// 64 px are blurs and snap round.
    public GeneratedBases? FlatFrom { get; }
    public nn.Module Trainable => _unet;

    /// One batch's rows: the captions, the low-resolution windows the stage is conditioned on, the high-resolution
    /// targets of the same regions (the exact render's window, or a generated window's flat target; [B, 3, Crop /
    /// factor, ...] and [B, 3, Crop, Crop]) and which rows' windows come from generated pictures ([B] bool), on the CPU.
    public (List<string> Captions, Tensor Low, Tensor High, Tensor Generated) DrawRows(int batchSize, Generator generator)
    {
        using var scope = NewDisposeScope();
        var batch = ShapesBatch.Draw(batchSize, generator);
        int factor = Config.SampleSize / LowSize, lowCrop = Crop / factor;
        var captions = batch.Captions.ToList();
        var high = new List<Tensor>();
        var low = new List<Tensor>();
        // Which rows take a generated picture, and which one; drawn only when some are given, so a run on renders alone
        // keeps its random stream of scenes, crops and noise.
        var u = GeneratedShare > 0 ? rand(new long[] { batchSize, 2 }, generator: generator).data<float>().ToArray() : new float[2 * batchSize];
        var generated = new bool[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            var scene = batch.Scenes[i];
            Tensor? picture = null;
            int pick = -1;
            if (u[2 * i] < GeneratedShare)
            {
                generated[i] = true;
                pick = Math.Min(GeneratedInputs!.Entries.Count - 1, (int)(u[2 * i + 1] * GeneratedInputs.Entries.Count));
                (scene, captions[i], picture) = (GeneratedInputs.Entries[pick].Scene, GeneratedInputs.Entries[pick].Prompt, GeneratedInputs.Pictures[pick]);
            }
            var (x, y) = CropSampler.Corner(scene, Config.SampleSize, Crop, factor, generator);
            var window = picture?[.., y..(y + lowCrop), x..(x + lowCrop)];
            high.Add(window is not null && GeneratedTarget == GeneratedTarget.Flat
                ? FlatTarget.Of(FlatFrom is null ? Upsampling.Bicubic(window.unsqueeze(0), Crop)[0]
                    : FlatFrom.Pictures[pick][.., (y * factor)..(y * factor + Crop), (x * factor)..(x * factor + Crop)], scene)
                : Renderer.RenderTensor(scene, Config.SampleSize, x * factor, y * factor, Crop, Crop));
            low.Add(window ?? Renderer.RenderTensor(scene, LowSize, x, y, lowCrop, lowCrop));
        }
        return (captions, stack(low.ToArray()).MoveToOuterDisposeScope(), stack(high.ToArray()).MoveToOuterDisposeScope(), tensor(generated).MoveToOuterDisposeScope());
    }

    public Tensor Loss(long step, int batchSize, Generator generator)
    {
        using var scope = NewDisposeScope();
        var (captions, low, high, generated) = DrawRows(batchSize, generator);
        using var text = _context.EncodeText(captions);
        var images = high.to(_context.Device);
        var lowImages = low.to(_context.Device);
        using Scalar residualScale = Config.ResidualScale; // held to the end: TorchRuntime says why
        if (Config.PredictsResidual) images = (images - Upsampling.Bicubic(lowImages, Crop)) * residualScale;
        var (lowNoised, levels) = NoiseAugmentation.Random(lowImages, _schedule, MaxAugmentationLevel, generator);
        if (GeneratedShare > 0)
        {
            // A generated picture is itself the degradation, met in use at augmentation level 0. Noised further, its
            // errors (the base's texture is a few levels of 255) would drown, the target's correction of them could not
            // be predicted, and the stage would learn to keep them.
            var rows = generated.to(_context.Device);
            lowNoised = where(rows.view(-1, 1, 1, 1), lowImages, lowNoised);
            levels = levels.masked_fill(rows, 0);
        }
        var conditioning = new UNetConditioning(text, LowRes: lowNoised, AugmentationLevel: levels);
        return DenoisingLoss.Compute(_unet, _schedule, images, conditioning, ConditionDropout, MinSnrGamma, generator, terminalFraction: TerminalFraction)
            .MoveToOuterDisposeScope();
    }

    public void Export(string modelFolder) => CascadeFolder.Save(modelFolder, Name, Config, _unet);
}

/// The target of a row conditioned on a generated picture: the exact render of its scene, or the picture itself in
/// the scene's flat colours (FlatTarget).
public enum GeneratedTarget { Render, Flat }
