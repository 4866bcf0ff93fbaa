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
/// With predicts_residual the target is the crop minus bicubic upsampling of its clean low-resolution window.
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
    public SuperResolutionTrainer(string name, UNetConfig config, int lowSize, int crop, int maxAugmentationLevel, TrainingContext context)
    {
        if (config.LowResChannels == 0) throw new ArgumentException($"{name} needs a U-Net with low_res_channels > 0");
        int factor = config.SampleSize / lowSize;
        if (factor * lowSize != config.SampleSize || crop % factor != 0 || crop % config.SizeMultiple != 0 || crop > config.SampleSize)
            throw new ArgumentException($"{name}: crop {crop} must divide by the upscale factor {factor} and by {config.SizeMultiple}, and fit in {config.SampleSize}");
        Name = name;
        Config = config;
        LowSize = lowSize;
        Crop = crop;
        MaxAugmentationLevel = maxAugmentationLevel;
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
    public nn.Module Trainable => _unet;

    public Tensor Loss(long step, int batchSize, Generator generator)
    {
        using var scope = NewDisposeScope();
        var batch = ShapesBatch.Draw(batchSize, generator);
        using var text = _context.EncodeText(batch.Captions);
        int factor = Config.SampleSize / LowSize, lowCrop = Crop / factor;
        var high = new List<Tensor>();
        var low = new List<Tensor>();
        for (int i = 0; i < batchSize; i++)
        {
            var (x, y) = CropSampler.Corner(batch.Scenes[i], Config.SampleSize, Crop, factor, generator);
            high.Add(Renderer.RenderTensor(batch.Scenes[i], Config.SampleSize, x * factor, y * factor, Crop, Crop));
            low.Add(Renderer.RenderTensor(batch.Scenes[i], LowSize, x, y, lowCrop, lowCrop));
        }
        var images = stack(high.ToArray()).to(_context.Device);
        var lowImages = stack(low.ToArray()).to(_context.Device);
        if (Config.PredictsResidual) images = (images - Upsampling.Bicubic(lowImages, Crop)) * Config.ResidualScale;
        var (lowNoised, levels) = NoiseAugmentation.Random(lowImages, _schedule, MaxAugmentationLevel, generator);
        var conditioning = new UNetConditioning(text, LowRes: lowNoised, AugmentationLevel: levels);
        return DenoisingLoss.Compute(_unet, _schedule, images, conditioning, ConditionDropout, MinSnrGamma, generator, terminalFraction: TerminalFraction)
            .MoveToOuterDisposeScope();
    }

    public void Export(string modelFolder) => CascadeFolder.Save(modelFolder, Name, Config, _unet);
}
