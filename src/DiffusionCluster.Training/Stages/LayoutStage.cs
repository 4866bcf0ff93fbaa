using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Training.Stages;

/// The layout model: regresses the average-pooled render (the low-pass ILVR holds the decoder to) from the caption's
/// CLIP text features, with squared error counted `objectWeight` times inside the objects' boxes, as the decoder's is.
public sealed class LayoutStage : ITrainingStage
{
    readonly StageContext _context;
    readonly LayoutNetwork _network;

    public LayoutStage(LayoutConfig config, StageContext context, double objectWeight = 1)
    {
        if (objectWeight < 1) throw new ArgumentOutOfRangeException(nameof(objectWeight), objectWeight, "the object weight must be at least 1");
        Config = config;
        ObjectWeight = objectWeight;
        _context = context;
        _network = new LayoutNetwork(config);
        _network.to(context.Device);
    }

    public LayoutConfig Config { get; }
    public double ObjectWeight { get; }
    public string Name => "layout";
    public nn.Module Trainable => _network;

    public Tensor Loss(long step, int batchSize, Generator generator)
    {
        using var scope = NewDisposeScope();
        var batch = ShapesBatch.Draw(batchSize, generator);
        using var text = _context.EncodeText(batch.Captions);
        var target = _network.Target(batch.Images(Config.ImageSize, _context.Device));
        var squared = F.mse_loss(_network.forward(text), target, reduction: nn.Reduction.None);
        var weights = F.avg_pool2d(batch.ObjectWeights(Config.ImageSize, ObjectWeight, _context.Device), Config.Factor);
        return ((squared * weights).sum() / (weights.sum() * 3)).MoveToOuterDisposeScope();
    }

    public void Export(string modelFolder) => CascadeFolder.Save(modelFolder, CascadeFolder.Layout, Config, _network);
}
