using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Training.Trainers;

/// The layout model: regresses the average-pooled render (the low-pass ILVR holds the decoder to) from the caption's
/// token ids, with squared error counted `objectWeight` times inside the objects' boxes, as the decoder's is.
public sealed class LayoutTrainer : ITrainer
{
    readonly TrainingContext _context;
    readonly LayoutNetwork _network;

    public LayoutTrainer(LayoutConfig config, TrainingContext context, double objectWeight = 1)
    {
        if (objectWeight < 1) throw new ArgumentOutOfRangeException(nameof(objectWeight), objectWeight, "the object weight must be at least 1");
        if (context.Tokenizer.VocabularySize > config.VocabSize)
            throw new ArgumentException($"the caption vocabulary has {context.Tokenizer.VocabularySize} tokens; the layout model's vocab_size is {config.VocabSize}");
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
        var ids = _context.Tokenizer.EncodeBatch(batch.Captions, _context.Device);
        var target = _network.Target(batch.Images(Config.ImageSize, _context.Device));
        var squared = F.mse_loss(_network.forward(ids, ids.ne(TextTransformer.PadId)), target, reduction: nn.Reduction.None);
        var weights = F.avg_pool2d(batch.ObjectWeights(Config.ImageSize, ObjectWeight, _context.Device), Config.Factor);
        using Scalar channels = 3; // held to the end: TorchRuntime says why
        return ((squared * weights).sum() / (weights.sum() * channels)).MoveToOuterDisposeScope();
    }

    public void Export(string modelFolder) => CascadeFolder.Save(modelFolder, CascadeFolder.Layout, Config, _network);
}
