using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// Fine-tunes the model folder's CLIP image tower against its frozen text tower on batches of shape variants
/// (ShapesBatch.DrawShapeVariants). CLIP trained on random batches, where colour and place nearly always tell the
/// captions apart, so its z_i barely carries shape (`study layout`'s probe); the prior predicts z_i and the decoder
/// draws from it, so a shape z_i lacks is lost for the whole cascade. The text tower stays as it is, so the prior's
/// input, the decoder's cross-attention tokens and the noise-aware CLIP (trained against the same text tower) keep
/// their meaning.
public sealed class ClipImageTrainer : ITrainer
{
    /// Scenes per group of shape variants: one drawn scene and three copies with other shapes.
    public const int GroupSize = 4;

    readonly TrainingContext _context;
    readonly ContrastiveImageTower _tower;

    public ClipImageTrainer(TrainingContext context)
    {
        _context = context;
        var encoder = CascadeFolder.LoadImageEncoder(context.ModelFolder, device: context.Device);
        Config = encoder.Config;
        _tower = new ContrastiveImageTower(encoder, InitialScale);
        _tower.to(context.Device);
    }

    public ImageEncoderConfig Config { get; }
    public string Name => "clip-image";
    public nn.Module Trainable => _tower;

    public Tensor Loss(long step, int batchSize, Generator generator)
    {
        using var scope = NewDisposeScope();
        var batch = ShapesBatch.DrawShapeVariants(batchSize, GroupSize, generator);
        using var text = _context.EncodeText(batch.Captions);
        var images = batch.Images(Config.ImageSize, _context.Device);
        return _tower.ContrastiveLoss(images, text.Pooled).MoveToOuterDisposeScope();
    }

    public void Export(string modelFolder) => CascadeFolder.Save(modelFolder, CascadeFolder.ImageEncoder, Config, _tower.Encoder);

    /// CLIP starts its learned scale at 1 / 0.07 and lets it grow; the captions of a group differ in one word each, so
    /// their text embeddings lie close together and only a large scale makes their small differences count. Adam moves
    /// the log scale by about the learning rate a step (2e-4 when fine-tuning), too slowly to get there from 1 / 0.07.
    const double InitialScale = 50;
}
