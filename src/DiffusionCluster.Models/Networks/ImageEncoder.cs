using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Networks;

/// CLIP's image tower as a small ResNet. The final feature map is flattened (not averaged) before the
/// projection, so the embedding keeps where things are. The noise-aware variant adds a timestep embedding
/// to every block, for CLIP guidance on noised images.
public sealed class ImageEncoder : nn.Module
{
    readonly Conv2d _stem;
    readonly TimestepEmbedding? _time;
    readonly ModuleList<ResBlock> _blocks;
    readonly ModuleList<Conv2d> _downsamples;
    readonly GroupNorm _finalNorm;
    readonly Linear _projection;

    public ImageEncoder(ImageEncoderConfig config) : base(nameof(ImageEncoder))
    {
        config.Validate();
        Config = config;
        long embeddingWidth = config.TimeConditioned ? config.Channels[0] * 4 : 0;
        _stem = config.StemStride == 1
            ? nn.Conv2d(config.InChannels, config.Channels[0], 3, padding: 1)
            : nn.Conv2d(config.InChannels, config.Channels[0], config.StemStride, stride: config.StemStride);
        _time = config.TimeConditioned ? new TimestepEmbedding(config.Channels[0], embeddingWidth) : null;
        _blocks = nn.ModuleList(config.Channels.Select(c => new ResBlock(c, c, embeddingWidth)).ToArray());
        _downsamples = nn.ModuleList(config.Channels.Skip(1)
            .Select((c, i) => nn.Conv2d(config.Channels[i], c, 3, stride: 2, padding: 1)).ToArray());
        _finalNorm = Init.GroupNorm(config.Channels[^1]);
        long flat = (long)config.Channels[^1] * config.FinalResolution * config.FinalResolution;
        _projection = nn.Linear(flat, config.EmbedDim);
        RegisterComponents();
    }

    public ImageEncoderConfig Config { get; }

    /// images: [B, C, S, S] in [-1, 1]; timesteps: [B] int64, required exactly when time_conditioned.
    public Tensor forward(Tensor images, Tensor? timesteps = null)
    {
        if (images.shape[^1] != Config.ImageSize || images.shape[^2] != Config.ImageSize)
            throw new ArgumentException($"image encoder takes {Config.ImageSize}x{Config.ImageSize} images; got {images.shape[^2]}x{images.shape[^1]}");
        if (Config.TimeConditioned != timesteps is not null)
            throw new ArgumentException(Config.TimeConditioned ? "this noise-aware image encoder needs timesteps" : "this image encoder takes no timesteps");
        using var scope = NewDisposeScope();
        var embedding = _time?.forward(timesteps!);
        var h = _stem.forward(images);
        for (int i = 0; i < _blocks.Count; i++)
        {
            if (i > 0) h = _downsamples[i - 1].forward(h);
            h = _blocks[i].forward(h, embedding);
        }
        h = F.silu(_finalNorm.forward(h)).flatten(1);
        return _projection.forward(h).MoveToOuterDisposeScope();
    }
}
