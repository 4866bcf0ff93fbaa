using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // networks initialise from torch's global RNG

namespace DiffusionCluster.Models.Tests;

/// Networks small enough to run in milliseconds, with every conditioning path switched on.
internal static class Tiny
{
    public static readonly TextEncoderConfig Text = new() { VocabSize = 40, MaxLength = 8, Width = 16, Layers = 1, Heads = 2, EmbedDim = 12 };
    public static readonly ImageEncoderConfig Image = new() { ImageSize = 16, Channels = [8, 16], EmbedDim = 12 };
    public static readonly PriorConfig Prior = new() { EmbedDim = 12, TextWidth = 16, MaxTextLength = 8, Width = 16, Layers = 1, Heads = 2 };
    public static readonly LayoutConfig Layout = new() { MaxTextLength = 8, VocabSize = 40, TextLayers = 1, Width = 16, Layers = 1, Heads = 2, Grid = 2, Size = 4, ImageSize = 16 };
    public static readonly UNetConfig Decoder = new()
    {
        SampleSize = 16, BaseChannels = 8, ChannelMult = [1, 2], AttentionResolutions = [8], Heads = 2,
        ContextDim = 16, ImageEmbedDim = 12, ImageTokens = 2,
    };
    public static readonly UNetConfig SuperResolution = Decoder with { SampleSize = 32, AttentionResolutions = [], ImageEmbedDim = 0, LowResChannels = 3 };
    public static readonly UNetConfig SpaceToDepth = SuperResolution with { SampleSize = 64, PatchSize = 4 };

    public static T Seeded<T>(long seed, Func<T> build)
    {
        manual_seed(seed);
        return build();
    }

    public static Tensor Tokens(long batch) => tensor(new long[] { 2, 7, 9, 3, 0, 0, 0, 0, 2, 5, 6, 11, 12, 3, 0, 0 }[..(int)(batch * 8)], new[] { batch, 8L });

    public static TextEncoding Encode(TextTransformer encoder, long batch = 2)
    {
        using var tokens = Tokens(batch);
        return encoder.forward(tokens);
    }

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var diff = (a - b).abs().max();
        return diff.item<float>();
    }
}
