using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Networks;

/// The denoising U-Net of every image stage (guided-diffusion layout): residual blocks with a timestep
/// embedding, self- and cross-attention at configured resolutions, skip connections. unCLIP conditioning
/// adds the CLIP image embedding to the timestep embedding and projects it to extra context tokens;
/// super-resolution concatenates the upsampled low-resolution image and embeds its augmentation level;
/// patch_size > 1 moves the whole network to 1/patch resolution by space-to-depth. Fully convolutional
/// apart from attention, so it trains on crops and samples full images.
public sealed class UNet : nn.Module
{
    readonly TimestepEmbedding _time;
    readonly TimestepEmbedding? _augmentation;
    readonly Linear? _inputGate;
    readonly Linear? _imageToEmbedding;
    readonly Linear? _imageToTokens;
    readonly Linear? _imageToMap;
    readonly Conv2d? _mapToFeatures;
    readonly Sequential? _layoutToMap;
    readonly Conv2d? _layoutMapToFeatures;
    readonly Parameter? _nullImageEmbedding;
    readonly Linear? _textToContext;
    readonly Parameter? _nullContextToken;
    readonly Conv2d _inputConv;
    readonly ModuleList<UNetBlock> _down;
    readonly ModuleList<Conv2d> _downsamples;
    readonly UNetBlock _middle1;
    readonly ResBlock _middle2;
    readonly ModuleList<UNetBlock> _up;
    readonly ModuleList<Conv2d> _upsamples;
    readonly GroupNorm _outputNorm;
    readonly Conv2d _outputConv;

    public UNet(UNetConfig config) : base(nameof(UNet))
    {
        config.Validate();
        Config = config;
        long embed = config.BaseChannels * 4L;
        long patchArea = (long)config.PatchSize * config.PatchSize;
        long context = config.ContextDim;

        _time = new TimestepEmbedding(config.BaseChannels, embed);
        if (config.LowResChannels > 0) _augmentation = new TimestepEmbedding(config.BaseChannels, embed);
        if (config.NoiseInputGate) _inputGate = Init.Zeroed(nn.Linear(embed, config.InChannels));
        if (config.ImageEmbedDim > 0)
        {
            _imageToEmbedding = nn.Linear(config.ImageEmbedDim, embed);
            _nullImageEmbedding = nn.Parameter(zeros(config.ImageEmbedDim));
            if (context > 0 && config.ImageTokens > 0)
                _imageToTokens = nn.Linear(config.ImageEmbedDim, config.ImageTokens * context);
        }
        if (context > 0)
        {
            _textToContext = nn.Linear(context, context);
            // Always one attendable token, so a fully dropped condition never leaves attention with no keys.
            _nullContextToken = nn.Parameter(randn(context) * 0.02);
        }

        long channels = config.BaseChannels * (long)config.ChannelMult[0];
        long inputChannels = config.InChannels + config.LowResChannels + (config.CoordinateChannels ? 2 : 0);
        _inputConv = nn.Conv2d(inputChannels * patchArea, channels, 3, padding: 1);
        var skipChannels = new Stack<long>();
        skipChannels.Push(channels);
        var down = new List<UNetBlock>();
        var downsamples = new List<Conv2d>();
        for (int level = 0; level < config.Levels; level++)
        {
            long width = config.BaseChannels * (long)config.ChannelMult[level];
            for (int r = 0; r < config.ResBlocksPerLevel; r++)
            {
                down.Add(new UNetBlock(channels, width, embed, config.HasAttention(level), config.Heads, context));
                channels = width;
                skipChannels.Push(channels);
            }
            if (level < config.Levels - 1)
            {
                downsamples.Add(nn.Conv2d(channels, channels, 3, stride: 2, padding: 1));
                skipChannels.Push(channels);
            }
        }
        if (config.ImageMapChannels > 0)
        {
            int side = config.CoarsestSize;
            _imageToMap = nn.Linear(config.ImageEmbedDim, (long)config.ImageMapChannels * side * side);
            _mapToFeatures = Init.Zeroed(nn.Conv2d(config.ImageMapChannels, channels, 1));
        }
        if (config.LayoutMapChannels > 0)
        {
            long side = config.LayoutMapSize, hidden = 4L * config.ImageEmbedDim;
            _layoutToMap = nn.Sequential(
                nn.Linear(config.ImageEmbedDim + context, hidden), nn.SiLU(), nn.Linear(hidden, config.LayoutMapChannels * side * side));
            // The decoder path enters a level at the width of the level below it (the middle's, at the coarsest).
            int below = Math.Min(config.LayoutLevel + 1, config.Levels - 1);
            _layoutMapToFeatures = Init.Zeroed(nn.Conv2d(config.LayoutMapChannels, config.BaseChannels * (long)config.ChannelMult[below], 1));
        }
        _middle1 = new UNetBlock(channels, channels, embed, config.AttentionResolutions.Length > 0, config.Heads, context);
        _middle2 = new ResBlock(channels, channels, embed);

        var up = new List<UNetBlock>();
        var upsamples = new List<Conv2d>();
        for (int level = config.Levels - 1; level >= 0; level--)
        {
            long width = config.BaseChannels * (long)config.ChannelMult[level];
            for (int r = 0; r <= config.ResBlocksPerLevel; r++)
            {
                up.Add(new UNetBlock(channels + skipChannels.Pop(), width, embed, config.HasAttention(level), config.Heads, context));
                channels = width;
            }
            if (level > 0) upsamples.Add(nn.Conv2d(channels, channels, 3, padding: 1));
        }
        _down = nn.ModuleList(down.ToArray());
        _downsamples = nn.ModuleList(downsamples.ToArray());
        _up = nn.ModuleList(up.ToArray());
        _upsamples = nn.ModuleList(upsamples.ToArray());
        _outputNorm = Init.GroupNorm(channels);
        _outputConv = Init.Zeroed(nn.Conv2d(channels, config.OutChannels * patchArea, 3, padding: 1));
        RegisterComponents();
    }

    public UNetConfig Config { get; }

    /// Whether a tensor belongs to a layer that changes nothing until trained (the image and layout maps' 1x1 convolutions
    /// and the noise input gate are zero-initialised), so a network grown by it from older weights computes what they did.
    public static bool StartsAsNoOp(string tensorName) =>
        tensorName.StartsWith("_imageToMap.", StringComparison.Ordinal) || tensorName.StartsWith("_mapToFeatures.", StringComparison.Ordinal)
        || tensorName.StartsWith("_layoutToMap.", StringComparison.Ordinal) || tensorName.StartsWith("_layoutMapToFeatures.", StringComparison.Ordinal)
        || tensorName.StartsWith("_inputGate.", StringComparison.Ordinal);

    /// x: [B, in_channels, H, W] noisy image; timesteps: [B] int64. Returns [B, out_channels, H, W].
    /// features, when given, receives the output of every decoder-path block (coarsest first), the pixel
    /// features label-efficient segmentation reads (Baranchuk et al.).
    public Tensor forward(Tensor x, Tensor timesteps, UNetConditioning conditioning, IList<Tensor>? features = null)
    {
        CheckInputs(x, conditioning);
        if (FlopTally.Counting)
            FlopTally.Add(NetworkFlops.UNet(Config, x.shape[0], x.shape[2], x.shape[3], conditioning.Text?.Tokens.shape[1] ?? 0, conditioning.ImageEmbedding is not null));
        using var scope = NewDisposeScope();
        var timeEmbedding = _time.forward(timesteps);
        var embedding = timeEmbedding;
        if (_augmentation is not null) embedding = embedding + _augmentation.forward(conditioning.AugmentationLevel!);
        var imageEmbedding = ImageEmbedding(conditioning);
        if (imageEmbedding is not null) embedding = embedding + _imageToEmbedding!.forward(imageEmbedding);
        var (context, contextMask) = Context(conditioning, imageEmbedding, x.shape[0]);

        // x (1 + gate), without a number operand (see ResBlock.forward).
        var h = _inputGate is null ? x : x + x * _inputGate.forward(timeEmbedding).view(x.shape[0], Config.InChannels, 1, 1);
        if (conditioning.LowRes is not null)
        {
            var upsampled = F.interpolate(conditioning.LowRes, new[] { x.shape[2], x.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false);
            h = cat(new[] { h, upsampled }, 1);
        }
        if (Config.CoordinateChannels) h = cat(new[] { h, Coordinates(h) }, 1);
        if (Config.PatchSize > 1) h = F.pixel_unshuffle(h, Config.PatchSize);
        h = _inputConv.forward(h);

        var skips = new Stack<Tensor>();
        skips.Push(h);
        int block = 0;
        for (int level = 0; level < Config.Levels; level++)
        {
            for (int r = 0; r < Config.ResBlocksPerLevel; r++)
            {
                h = _down[block++].forward(h, embedding, context, contextMask);
                skips.Push(h);
            }
            if (level < Config.Levels - 1)
            {
                h = _downsamples[level].forward(h);
                skips.Push(h);
            }
        }
        if (_imageToMap is not null) h = h + ImageMap(imageEmbedding!, h);
        h = _middle1.forward(h, embedding, context, contextMask);
        h = _middle2.forward(h, embedding);
        block = 0;
        for (int level = Config.Levels - 1, u = 0; level >= 0; level--)
        {
            if (_layoutToMap is not null && level == Config.LayoutLevel) h = h + LayoutMap(imageEmbedding!, conditioning, h);
            for (int r = 0; r <= Config.ResBlocksPerLevel; r++)
            {
                h = _up[block++].forward(cat(new[] { h, skips.Pop() }, 1), embedding, context, contextMask);
                features?.Add(h.MoveToOuterDisposeScope());
            }
            if (level > 0)
                h = _upsamples[u++].forward(F.interpolate(h, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest));
        }
        h = _outputConv.forward(F.silu(_outputNorm.forward(h)));
        if (Config.PatchSize > 1) h = F.pixel_shuffle(h, Config.PatchSize);
        return h.MoveToOuterDisposeScope();
    }

    /// [B, 2, H, W]: each pixel's x then y, from -1 at the first pixel to 1 at the last, in the input's dtype.
    static Tensor Coordinates(Tensor x)
    {
        long b = x.shape[0], height = x.shape[2], width = x.shape[3];
        var xs = linspace(-1, 1, width, dtype: x.dtype, device: x.device).view(1, 1, 1, width).expand(b, 1, height, width);
        var ys = linspace(-1, 1, height, dtype: x.dtype, device: x.device).view(1, 1, height, 1).expand(b, 1, height, width);
        return cat(new[] { xs, ys }, 1);
    }

    /// The image embedding as a [B, C, s, s] map at the coarsest level (resized when the input is not sample_size).
    Tensor ImageMap(Tensor imageEmbedding, Tensor h)
    {
        int side = Config.CoarsestSize;
        var map = _imageToMap!.forward(imageEmbedding).view(h.shape[0], Config.ImageMapChannels, side, side);
        if (h.shape[2] != side || h.shape[3] != side)
            map = F.interpolate(map, new[] { h.shape[2], h.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false);
        return _mapToFeatures!.forward(map);
    }

    /// The layout map: an MLP of [z_i; mean caption token] painted as a [B, C, s, s] map, resized to h and projected to its width.
    Tensor LayoutMap(Tensor imageEmbedding, UNetConditioning conditioning, Tensor h)
    {
        long batch = h.shape[0], side = Config.LayoutMapSize;
        var input = imageEmbedding;
        if (Config.ContextDim > 0)
        {
            var textMean = conditioning.Text is { } text
                ? text.MeanToken(TextMask(conditioning, batch))
                : zeros(batch, Config.ContextDim, dtype: h.dtype, device: h.device);
            input = cat(new[] { imageEmbedding, textMean }, 1);
        }
        var map = _layoutToMap!.forward(input).view(batch, Config.LayoutMapChannels, side, side);
        if (h.shape[2] != side || h.shape[3] != side)
            map = F.interpolate(map, new[] { h.shape[2], h.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false);
        return _layoutMapToFeatures!.forward(map);
    }

    /// The caption tokens attention may read: the tokenizer's mask, less rows whose caption is dropped.
    static Tensor? TextMask(UNetConditioning conditioning, long batch)
    {
        if (conditioning.Text is not { } text) return null;
        var mask = text.Mask;
        if (conditioning.DropConditioning is not null)
            mask = mask.logical_and(conditioning.DropConditioning.view(batch, 1).logical_not());
        if (conditioning.DropText is not null)
            mask = mask.logical_and(conditioning.DropText.view(batch, 1).logical_not());
        return mask;
    }

    Tensor? ImageEmbedding(UNetConditioning conditioning)
    {
        if (_nullImageEmbedding is null) return null;
        var image = conditioning.ImageEmbedding!;
        if (conditioning.DropConditioning is null) return image;
        long b = image.shape[0];
        return where(conditioning.DropConditioning.view(b, 1), _nullImageEmbedding.unsqueeze(0).expand(b, -1), image);
    }

    /// Cross-attention context: [null token; projected text tokens; image-embedding tokens] and its key mask.
    (Tensor? Context, Tensor? Mask) Context(UNetConditioning conditioning, Tensor? imageEmbedding, long batch)
    {
        if (_nullContextToken is null) return (null, null);
        var device = _nullContextToken.device;
        var parts = new List<Tensor> { _nullContextToken.view(1, 1, -1).expand(batch, 1, -1) };
        var masks = new List<Tensor> { ones(batch, 1, dtype: @bool, device: device) };
        if (conditioning.Text is { } text)
        {
            parts.Add(_textToContext!.forward(text.Tokens));
            masks.Add(TextMask(conditioning, batch)!);
        }
        if (_imageToTokens is not null && imageEmbedding is not null)
        {
            parts.Add(_imageToTokens.forward(imageEmbedding).view(batch, Config.ImageTokens, Config.ContextDim));
            masks.Add(ones(batch, Config.ImageTokens, dtype: @bool, device: device));
        }
        return (cat(parts.ToArray(), 1), cat(masks.ToArray(), 1));
    }

    void CheckInputs(Tensor x, UNetConditioning c)
    {
        if (x.dim() != 4 || x.shape[1] != Config.InChannels)
            throw new ArgumentException($"U-Net input must be [B, {Config.InChannels}, H, W]; got [{string.Join(", ", x.shape)}]");
        if (x.shape[2] % Config.SizeMultiple != 0 || x.shape[3] % Config.SizeMultiple != 0)
            throw new ArgumentException($"U-Net input of {x.shape[2]}x{x.shape[3]} pixels is not a multiple of {Config.SizeMultiple} (patch_size x 2^(levels-1))");
        if (Config.LowResChannels > 0 && (c.LowRes is null || c.AugmentationLevel is null))
            throw new ArgumentException("this super-resolution U-Net needs the low-resolution image and its augmentation level");
        if (Config.LowResChannels > 0 && c.LowRes!.shape[1] != Config.LowResChannels)
            throw new ArgumentException($"low-resolution input has {c.LowRes.shape[1]} channels; the model expects {Config.LowResChannels}");
        if (Config.ImageEmbedDim > 0 && c.ImageEmbedding is null)
            throw new ArgumentException("this unCLIP decoder needs the CLIP image embedding");
        if (Config.ImageEmbedDim > 0 && c.ImageEmbedding!.shape[^1] != Config.ImageEmbedDim)
            throw new ArgumentException($"image embedding has width {c.ImageEmbedding.shape[^1]}; the model expects {Config.ImageEmbedDim}");
        if (c.Text is not null && Config.ContextDim > 0 && c.Text.Tokens.shape[^1] != Config.ContextDim)
            throw new ArgumentException($"text tokens have width {c.Text.Tokens.shape[^1]}; the model's context_dim is {Config.ContextDim}");
    }
}

/// One U-Net step: a residual block, then attention when its level has it.
internal sealed class UNetBlock : nn.Module
{
    readonly ResBlock _res;
    readonly SpatialAttention? _attention;

    public UNetBlock(long inChannels, long outChannels, long embeddingWidth, bool attention, long heads, long contextWidth) : base(nameof(UNetBlock))
    {
        _res = new ResBlock(inChannels, outChannels, embeddingWidth);
        _attention = attention ? new SpatialAttention(outChannels, heads, contextWidth) : null;
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor embedding, Tensor? context, Tensor? contextMask)
    {
        var h = _res.forward(x, embedding);
        if (_attention is null) return h;
        var attended = _attention.forward(h, context, contextMask);
        h.Dispose();
        return attended;
    }
}
