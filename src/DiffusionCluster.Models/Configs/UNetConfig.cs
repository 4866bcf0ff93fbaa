namespace DiffusionCluster.Models.Configs;

/// A text- and image-embedding-conditioned U-Net, sized entirely from config. The same class serves the
/// 64px base decoder, the 64->256 super-resolution stage (low_res_channels > 0) and the 256->1024 stage
/// (patch_size > 1: space-to-depth, so little compute happens at full resolution).
public sealed record UNetConfig : INetworkConfig
{
    /// Output resolution the model is meant for (crops may be smaller); attention_resolutions refer to it.
    public int SampleSize { get; init; } = 64;
    public int InChannels { get; init; } = 3;
    /// in_channels, or 2 x in_channels when the model also predicts its variance (improved DDPM).
    public int OutChannels { get; init; } = 3;
    public int BaseChannels { get; init; } = 32;
    public int[] ChannelMult { get; init; } = [1, 2, 4];
    public int ResBlocksPerLevel { get; init; } = 1;
    /// Feature-map sizes (in pixels of sample_size) that get self- and cross-attention, e.g. [16, 8].
    public int[] AttentionResolutions { get; init; } = [16, 8];
    public int Heads { get; init; } = 4;
    /// Width of the text tokens to cross-attend to (0: no text conditioning).
    public int ContextDim { get; init; } = 128;
    /// Width of the CLIP image embedding (0: not an unCLIP decoder).
    public int ImageEmbedDim { get; init; }
    /// Extra context tokens projected from the image embedding (unCLIP uses 4).
    public int ImageTokens { get; init; } = 4;
    /// Channels of the low-resolution conditioning image (0: not a super-resolution stage).
    public int LowResChannels { get; init; }
    /// Space-to-depth factor at the input (pixel-unshuffle) and depth-to-space at the output.
    public int PatchSize { get; init; } = 1;
    /// Append two input channels holding each pixel's x and y in [-1, 1] (CoordConv, Liu et al. 2018). Convolutions
    /// and attention without position encodings can tell absolute position only from border effects; a small
    /// base decoder needs it to put an object "at the top left". SR stages get position from their input.
    public bool CoordinateChannels { get; init; }
    /// unCLIP decoders only: project the image embedding to a map of this many channels at the coarsest level's
    /// resolution, added there through a zero-initialised 1x1 convolution (0: off). The embedding otherwise enters
    /// only spatially uniformly (added to the timestep embedding) and as context tokens, so the decoder must learn
    /// where an object goes through attention; the embedding encodes position linearly (a linear probe reads the
    /// 3x3 place of held-out single-object renders at 100%, `study layout`), and the map lets a linear layer say where.
    public int ImageMapChannels { get; init; }
    /// unCLIP decoders only: a layout map of this many channels (0: off), painted at layout_map_size by a two-layer MLP
    /// from the image embedding and the mean of the caption's token features, and added at the start of that level's
    /// decoder path through a zero-initialised 1x1 convolution. The image map above is linear in z_i, which places
    /// objects but cannot say what shape sits where: our CLIP's z_i barely encodes shape (a linear probe reads it for 25.4%
    /// of held-out renders, the mean caption token for 100%; `study layout`), and "this shape at that place" is a
    /// conjunction a hidden layer can form and a linear map cannot. Not in the bundled decoder (docs/MODEL_CARD.md).
    public int LayoutMapChannels { get; init; }
    /// Side of the layout map in network pixels at sample_size: the size of one of the levels (e.g. 16 for the decoder).
    public int LayoutMapSize { get; init; }
    /// Super-resolution only: diffuse the residual over bicubic upsampling of the clean low-resolution input
    /// instead of the image (SRDiff, Li et al. 2022). A model that predicts no residual is already bicubic,
    /// so training spends its capacity on the edges bicubic blurs.
    public bool PredictsResidual { get; init; }
    /// Residual stages only: the residual is multiplied by this before diffusion and divided after sampling. Bicubic
    /// misses only edges, so the residual's RMS is far below an image's (0.04 for 64 -> 256 in [-1, 1], 0.014 for
    /// 256 -> 1024, on training scenes; ResidualScaleTests); unscaled, it sits under the noise at nearly every timestep and the
    /// schedule is wasted, as Stable Diffusion's latent scale factor avoids for its latents.
    public double ResidualScale { get; init; } = 1;
    /// Scale each channel of the noisy input x_t by a factor learned from the timestep embedding (1 + a zero-initialised
    /// linear layer, so a network grown by it computes what it did). The input convolution is the same at every t, so
    /// without the gate a narrow first level carries x_t even where x_t is pure noise (t = T on a zero-terminal-SNR
    /// schedule), and the noise leaks into the estimate that a few-step sample starts from (`eval --sr-only` compares
    /// that estimate with the mean of several draws' estimates). The gate lets a stage shut the noise out where it carries nothing.
    public bool NoiseInputGate { get; init; }
    /// Super-resolution stages trained on crops: sample in overlapping windows of this many output pixels, the training
    /// crop, blended where they overlap (0: the whole image at once). Group norms and self-attention see a crop's
    /// statistics and token count in training; over a whole image they see others (a 1024 px image is 64 training
    /// crops), and the estimate a 2-step sample starts from is then worse than in windows (SampleWindowsTests, docs/MODEL_CARD.md).
    public int SampleWindow { get; init; }
    public DiffusionConfig Diffusion { get; init; } = new();

    public int Levels => ChannelMult.Length;

    /// Whether level l (resolution sample_size / patch_size / 2^l) has attention.
    public bool HasAttention(int level) => AttentionResolutions.Contains(LevelSize(level));

    /// Side of level l's feature map at sample_size: sample_size / patch_size / 2^l.
    public int LevelSize(int level) => SampleSize / PatchSize >> level;

    /// Every level's side, finest first, as an error message lists them.
    string LevelSizes => string.Join(", ", Enumerable.Range(0, Levels).Select(LevelSize));

    /// Side of the coarsest level's feature map at sample_size (where the image map is added).
    public int CoarsestSize => LevelSize(Levels - 1);

    /// The level whose size is layout_map_size (-1: none). Not written to config.json: it restates layout_map_size.
    [System.Text.Json.Serialization.JsonIgnore]
    public int LayoutLevel => Enumerable.Range(0, Levels).FirstOrDefault(l => LevelSize(l) == LayoutMapSize, -1);

    /// Spatial sizes must divide by this so every downsampling is exact.
    public int SizeMultiple => PatchSize << (Levels - 1);

    public void Validate()
    {
        Check.Range(nameof(SampleSize), SampleSize, 8, 8192);
        Check.Range(nameof(InChannels), InChannels, 1, 64);
        if (OutChannels != InChannels && OutChannels != 2 * InChannels)
            throw new ArgumentException($"out_channels = {OutChannels} must be in_channels ({InChannels}) or twice it (learned variance)");
        Check.Range(nameof(BaseChannels), BaseChannels, 1, 8192);
        if (ChannelMult.Length is < 1 or > 8) throw new ArgumentException($"channel_mult has {ChannelMult.Length} levels; allowed 1 to 8");
        foreach (var m in ChannelMult) Check.Range("channel_mult[]", m, 1, 64);
        Check.Range(nameof(ResBlocksPerLevel), ResBlocksPerLevel, 1, 16);
        Check.Range(nameof(Heads), Heads, 1, 1024);
        Check.Range(nameof(ContextDim), ContextDim, 0, 65536);
        Check.Range(nameof(ImageEmbedDim), ImageEmbedDim, 0, 65536);
        Check.Range(nameof(ImageTokens), ImageTokens, 0, 256);
        Check.Range(nameof(ImageMapChannels), ImageMapChannels, 0, 1024);
        if (ImageMapChannels > 0 && ImageEmbedDim == 0)
            throw new ArgumentException($"image_map_channels = {ImageMapChannels} needs an unCLIP decoder (image_embed_dim > 0)");
        Check.Range(nameof(LayoutMapChannels), LayoutMapChannels, 0, 1024);
        if (LayoutMapChannels > 0 && ImageEmbedDim == 0)
            throw new ArgumentException($"layout_map_channels = {LayoutMapChannels} needs an unCLIP decoder (image_embed_dim > 0)");
        if (LayoutMapChannels > 0 && LayoutLevel < 0)
            throw new ArgumentException($"layout_map_size = {LayoutMapSize} is not the size of any level ({LevelSizes})");
        Check.Range(nameof(LowResChannels), LowResChannels, 0, 64);
        Check.Range(nameof(PatchSize), PatchSize, 1, 64);
        if (PredictsResidual && LowResChannels != InChannels)
            throw new ArgumentException($"predicts_residual needs a super-resolution stage whose low_res_channels ({LowResChannels}) equal in_channels ({InChannels})");
        if (ResidualScale is not (>= 0.01 and <= 1000) || (!PredictsResidual && ResidualScale != 1))
            throw new ArgumentException($"residual_scale = {ResidualScale} must be in [0.01, 1000] and stay 1 unless predicts_residual is set");
        if (SampleSize % SizeMultiple != 0)
            throw new ArgumentException($"sample_size {SampleSize} is not divisible by patch_size x 2^(levels-1) = {SizeMultiple}");
        for (int l = 0; l < Levels; l++)
            if (HasAttention(l) && BaseChannels * ChannelMult[l] % Heads != 0)
                throw new ArgumentException($"level {l} width {BaseChannels * ChannelMult[l]} is not divisible by heads = {Heads}");
        foreach (var r in AttentionResolutions)
            if (!Enumerable.Range(0, Levels).Any(l => LevelSize(l) == r))
                throw new ArgumentException($"attention_resolutions has {r}, which is not the size of any level ({LevelSizes})");
        if (SampleWindow != 0 && (LowResChannels == 0 || SampleWindow % SizeMultiple != 0 || SampleWindow > SampleSize))
            throw new ArgumentException($"sample_window = {SampleWindow} must be 0 or, for a super-resolution stage, a multiple of {SizeMultiple} (patch_size x 2^(levels-1)) up to sample_size {SampleSize}");
        Diffusion.Validate();
    }
}
