namespace DiffusionCluster.Models.Configs;

/// The default network sizes of the bundled shapes cascade: small enough to sample on two CPU cores.
/// A real-size cascade changes only these numbers (or its config.json files), not the code.
public static class CascadeDefaults
{
    public static TextEncoderConfig TextEncoder { get; } = new()
    {
        VocabSize = 256, MaxLength = 48, Width = 128, Layers = 4, Heads = 4, EmbedDim = 128,
    };

    public static ImageEncoderConfig ImageEncoder { get; } = new()
    {
        ImageSize = 64, Channels = [32, 64, 128, 128], EmbedDim = 128, StemStride = 2,
    };

    /// GLIDE's noise-aware CLIP image tower, for CLIP guidance.
    public static ImageEncoderConfig NoisyImageEncoder { get; } = ImageEncoder with { TimeConditioned = true };

    public static PriorConfig Prior { get; } = new()
    {
        EmbedDim = 128, TextWidth = 128, MaxTextLength = 48, Width = 256, Layers = 4, Heads = 4,
    };

    /// Text -> the 64 px scene average-pooled to 16 px, one token per 2x2-pixel cell; ILVR holds the decoder to it.
    /// It reads the token ids through Transformer blocks of its own: on CLIP's token features it learned where objects
    /// are but not which colour sits where (docs/MODEL_CARD.md).
    public static LayoutConfig Layout { get; } = new()
    {
        MaxTextLength = 48, VocabSize = 256, TextLayers = 4, Width = 128, Layers = 2, Heads = 4,
        Grid = 8, Size = 16, ImageSize = 64,
    };

    /// 64px unCLIP decoder: text tokens and the CLIP image embedding, attention at 16 and 8 px. Space-to-depth
    /// by 2 (the network runs at 32, 16 and 8 px) keeps CPU training affordable; coordinate
    /// channels and the image map (the embedding projected to an 8x8 map) let it place objects where the embedding says.
    public static UNetConfig Decoder64 { get; } = new()
    {
        SampleSize = 64, BaseChannels = 32, ChannelMult = [1, 2, 4], ResBlocksPerLevel = 1,
        AttentionResolutions = [16, 8], Heads = 4, ContextDim = 128, ImageEmbedDim = 128, ImageTokens = 4, PatchSize = 2,
        CoordinateChannels = true, ImageMapChannels = 16,
    };

    /// 64->256: space-to-depth by 2, so the network runs at 128, 64 and 32 px; cross-attention to text at 32;
    /// diffuses the residual over bicubic upsampling (SRDiff), scaled by 8 (RMS 0.04 -> 0.32, about an image's spread);
    /// gates its noisy input by timestep (see Sr1024).
    public static UNetConfig Sr256 { get; } = new()
    {
        SampleSize = 256, BaseChannels = 32, ChannelMult = [1, 2, 4], ResBlocksPerLevel = 1,
        AttentionResolutions = [32], Heads = 4, ContextDim = 128, LowResChannels = 3, PatchSize = 2, PredictsResidual = true,
        ResidualScale = 8, NoiseInputGate = true, SampleWindow = 64,
    };

    /// 256->1024: space-to-depth by 8, so no layer runs above 128 px; cross-attention to text at 32; diffuses the
    /// residual over bicubic upsampling, scaled by 16 (RMS 0.014 -> 0.22); gates its noisy input by timestep, because
    /// its 32-channel first level cannot shut pure noise out otherwise.
    public static UNetConfig Sr1024 { get; } = new()
    {
        SampleSize = 1024, BaseChannels = 32, ChannelMult = [1, 2, 4], ResBlocksPerLevel = 1,
        AttentionResolutions = [32], Heads = 4, ContextDim = 128, LowResChannels = 3, PatchSize = 8, PredictsResidual = true,
        ResidualScale = 16, NoiseInputGate = true, SampleWindow = 128,
    };
}
