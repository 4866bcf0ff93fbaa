using DiffusionCluster.Models.Configs;
using DiffusionCluster.Training.Loop;
using DiffusionCluster.Training.Trainers;
using static TorchSharp.torch;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // networks initialise from torch's global RNG

namespace DiffusionCluster.Training.Tests;

/// Stage configs small enough to train a few steps in seconds, and a model folder holding a tiny CLIP.
internal sealed class TinyCascade : IDisposable
{
    public static readonly TextEncoderConfig Text = new() { VocabSize = 256, MaxLength = 48, Width = 32, Layers = 1, Heads = 2, EmbedDim = 16 };
    public static readonly ImageEncoderConfig Image = new() { ImageSize = 64, Channels = [8, 16, 16], EmbedDim = 16, StemStride = 4 };
    public static readonly PriorConfig Prior = new() { EmbedDim = 16, TextWidth = 32, MaxTextLength = 48, Width = 32, Layers = 1, Heads = 2 };
    public static readonly UNetConfig Decoder = new()
    {
        SampleSize = 64, BaseChannels = 8, ChannelMult = [1, 2, 2], AttentionResolutions = [16], Heads = 2,
        ContextDim = 32, ImageEmbedDim = 16, ImageTokens = 2,
    };
    public static readonly LayoutConfig Layout = new() { MaxTextLength = 48, VocabSize = 256, TextLayers = 1, Width = 32, Layers = 1, Heads = 2, Grid = 4, Size = 16, ImageSize = 64 };
    public static readonly UNetConfig Sr = new()
    {
        SampleSize = 256, BaseChannels = 8, ChannelMult = [1, 2], AttentionResolutions = [], Heads = 2,
        ContextDim = 32, LowResChannels = 3, PatchSize = 4,
    };

    public TinyCascade()
    {
        Root = Directory.CreateTempSubdirectory("dc-training-").FullName;
        ModelFolder = Path.Combine(Root, "model");
        manual_seed(0);
        var clip = new ClipTrainer(Text, Image, Path.Combine(ModelFolder, "text_encoder"), CPU);
        clip.Export(ModelFolder);
    }

    public string Root { get; }
    public string ModelFolder { get; }

    public TrainingContext Context(bool image) => new(ModelFolder, CPU, image);

    public TrainingOptions Options(string name, long steps) => new()
    {
        CheckpointFolder = Path.Combine(Root, "checkpoints", name),
        ModelFolder = ModelFolder,
        Steps = steps,
        BatchSize = 4,
        LearningRate = 1e-3,
        WarmupSteps = 1,
        CheckpointEvery = 1000,
        LogEvery = 1000,
    };

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
