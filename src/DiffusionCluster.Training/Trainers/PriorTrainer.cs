using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Training.Trainers;

/// unCLIP's diffusion prior: learns p(z_i | text) by denoising CLIP image embeddings of the training renders,
/// predicting the clean embedding directly (MSE), with 10% of captions dropped for classifier-free guidance.
public sealed class PriorTrainer : ITrainer
{
    const double ConditionDropout = 0.1;

    readonly TrainingContext _context;
    readonly DiffusionPrior _prior;
    readonly NoiseSchedule _schedule;

    public PriorTrainer(PriorConfig config, TrainingContext context)
    {
        if (config.Diffusion.Prediction != PredictionType.Sample) throw new ArgumentException("the prior is trained to predict the clean embedding (prediction: sample)");
        Config = config;
        _context = context;
        _schedule = config.Diffusion.BuildSchedule();
        _prior = new DiffusionPrior(config);
        _prior.to(context.Device);
    }

    public PriorConfig Config { get; }
    public string Name => "prior";
    public nn.Module Trainable => _prior;

    public Tensor Loss(long step, int batchSize, Generator generator)
    {
        using var scope = NewDisposeScope();
        var batch = ShapesBatch.Draw(batchSize, generator);
        using var text = _context.EncodeText(batch.Captions);
        var target = _context.ImageEmbedding(batch.Images(64, _context.Device));
        var t = TrainingContext.Timesteps(batchSize, _schedule, generator, _context.Device);
        var noise = randn(target.shape, generator: generator).to(_context.Device);
        var noised = NoiseSchedule.AddNoise(target, noise, _schedule.AlphaBarFor(t, 2, _context.Device));
        var drop = TrainingContext.DropMask(batchSize, ConditionDropout, generator, _context.Device);
        var predicted = _prior.forward(noised, t, text, drop);
        return F.mse_loss(predicted, target).MoveToOuterDisposeScope();
    }

    public void Export(string modelFolder) => CascadeFolder.Save(modelFolder, CascadeFolder.Prior, Config, _prior);
}
