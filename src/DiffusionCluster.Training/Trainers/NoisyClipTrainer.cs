using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// GLIDE's noise-aware CLIP: an image tower that sees x_t (noised with the 64px decoder's schedule) and t,
/// trained contrastively against the frozen CLIP text tower, so CLIP guidance has a meaningful gradient at
/// every noise level.
public sealed class NoisyClipTrainer : ITrainer
{
    readonly TrainingContext _context;
    readonly ContrastiveImageTower _tower;
    readonly NoiseSchedule _schedule;

    public NoisyClipTrainer(ImageEncoderConfig config, TrainingContext context)
    {
        if (!config.TimeConditioned) throw new ArgumentException("the noise-aware image encoder must be time_conditioned");
        Config = config;
        _context = context;
        _schedule = CascadeDefaults.Decoder64.Diffusion.BuildSchedule();
        _tower = new ContrastiveImageTower(new ImageEncoder(config), initialScale: 1 / 0.07);
        _tower.to(context.Device);
    }

    public ImageEncoderConfig Config { get; }
    public string Name => "noisy-clip";
    public nn.Module Trainable => _tower;

    public Tensor Loss(long step, int batchSize, Generator generator)
    {
        using var scope = NewDisposeScope();
        var batch = ShapesBatch.Draw(batchSize, generator);
        using var text = _context.EncodeText(batch.Captions);
        var images = batch.Images(Config.ImageSize, _context.Device);
        var t = TrainingContext.Timesteps(batchSize, _schedule, generator, _context.Device);
        var noise = randn(images.shape, generator: generator).to(_context.Device);
        var noised = NoiseSchedule.AddNoise(images, noise, _schedule.AlphaBarFor(t, 4, _context.Device));
        return _tower.ContrastiveLoss(noised, text.Pooled, t).MoveToOuterDisposeScope();
    }

    public void Export(string modelFolder) => CascadeFolder.Save(modelFolder, CascadeFolder.NoisyImageEncoder, Config, _tower.Encoder);
}
