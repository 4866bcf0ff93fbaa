using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// The 64px unCLIP decoder: denoises renders conditioned on their own CLIP image embedding and their caption's
/// tokens; both dropped together for 10% of rows (classifier-free guidance), and the text alone for another 20%
/// (as DALL-E 2 dropped captions), so the decoder can also decode a bare z_i: variations of an uncaptioned image. v-prediction on a zero-terminal-SNR
/// schedule with min-SNR-5 weighting, so the high-noise steps that decide layout and background get weight.
public sealed class DecoderTrainer : ITrainer
{
    const double ConditionDropout = 0.1;
    const double TextOnlyDropout = 0.2;
    const double MinSnrGamma = 5;

    readonly TrainingContext _context;
    readonly UNet _unet;
    readonly NoiseSchedule _schedule;

    /// objectWeight: how much more a pixel inside an object's bounding box counts in the loss than a background pixel
    /// (1: all alike). A shape differs from the others in a few dozen of an image's 4,096 pixels, so with every pixel
    /// alike the loss barely feels a wrong shape (a decoder trained so drew blobs of the right colour and place); the
    /// bundled decoder trained with 10.
    public DecoderTrainer(UNetConfig config, TrainingContext context, double objectWeight = 1)
    {
        if (config.ImageEmbedDim == 0 || config.LowResChannels != 0) throw new ArgumentException("the decoder stage trains an unCLIP U-Net (image_embed_dim > 0, no low-res input)");
        if (objectWeight < 1) throw new ArgumentOutOfRangeException(nameof(objectWeight), objectWeight, "the object weight must be at least 1");
        Config = config;
        ObjectWeight = objectWeight;
        _context = context;
        _schedule = config.Diffusion.BuildSchedule();
        _unet = new UNet(config);
        _unet.to(context.Device);
    }

    public UNetConfig Config { get; }
    public double ObjectWeight { get; }
    public string Name => "decoder64";
    public nn.Module Trainable => _unet;

    public Tensor Loss(long step, int batchSize, Generator generator)
    {
        using var scope = NewDisposeScope();
        var batch = ShapesBatch.Draw(batchSize, generator);
        using var text = _context.EncodeText(batch.Captions);
        var images = batch.Images(Config.SampleSize, _context.Device);
        var imageEmbedding = _context.ImageEmbedding(Config.SampleSize == 64 ? images : batch.Images(64, _context.Device));
        var pixelWeights = ObjectWeight > 1 ? batch.ObjectWeights(Config.SampleSize, ObjectWeight, _context.Device) : null;
        return DenoisingLoss.Compute(_unet, _schedule, images, new UNetConditioning(text, imageEmbedding), ConditionDropout, MinSnrGamma, generator,
            TextOnlyDropout, pixelWeights: pixelWeights).MoveToOuterDisposeScope();
    }

    public void Export(string modelFolder) => CascadeFolder.Save(modelFolder, CascadeFolder.Decoder64, Config, _unet);
}

/// The denoising objective shared by the image stages: draw t and noise, predict, weight by min-SNR.
internal static class DenoisingLoss
{
    public static Tensor Compute(UNet unet, NoiseSchedule schedule, Tensor images, UNetConditioning conditioning, double dropout, double gamma, Generator generator,
        double textOnlyDropout = 0, double terminalFraction = 0, Tensor? pixelWeights = null)
    {
        using var scope = NewDisposeScope();
        int batch = (int)images.shape[0];
        var device = images.device;
        var t = TrainingContext.Timesteps(batch, schedule, generator, device, terminalFraction);
        var noise = randn(images.shape, generator: generator).to(device);
        var alphaBar = schedule.AlphaBarFor(t, 4, device);
        var noised = NoiseSchedule.AddNoise(images, noise, alphaBar);
        var drop = TrainingContext.DropMask(batch, dropout, generator, device);
        var dropText = textOnlyDropout > 0 ? TrainingContext.DropMask(batch, textOnlyDropout, generator, device) : null;
        var prediction = unet.forward(noised, t, conditioning with { DropConditioning = drop, DropText = dropText });
        var target = Parameterization.Target(unet.Config.Diffusion.Prediction, images, noise, alphaBar);
        return TrainingContext.MinSnrLoss(prediction[.., ..(int)images.shape[1]], target, alphaBar, gamma, unet.Config.Diffusion.Prediction, pixelWeights)
            .MoveToOuterDisposeScope();
    }
}
