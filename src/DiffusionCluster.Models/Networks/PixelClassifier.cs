using DiffusionCluster.Models.Configs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Networks;

/// A per-pixel MLP (as 1x1 convolutions) over standardised features: [B, C, H, W] -> class logits [B, K, H, W].
/// The standardisation (per-channel mean and std of the training pixels) is part of the saved weights.
public sealed class PixelClassifier : nn.Module<Tensor, Tensor>
{
    readonly Conv2d _hidden;
    readonly Conv2d _output;
    readonly Tensor _mean;
    readonly Tensor _std;

    public PixelClassifier(SegmentationConfig config) : base(nameof(PixelClassifier))
    {
        config.Validate();
        Config = config;
        _hidden = nn.Conv2d(config.InChannels, config.Hidden, 1);
        _output = nn.Conv2d(config.Hidden, config.Classes.Length, 1);
        _mean = zeros(config.InChannels);
        _std = ones(config.InChannels);
        register_buffer("mean", _mean);
        register_buffer("std", _std);
        RegisterComponents();
    }

    public SegmentationConfig Config { get; }

    /// Sets the standardisation from training pixels [N, C].
    public void Standardise(Tensor pixels)
    {
        using var _ = no_grad();
        _mean.copy_(pixels.mean(new long[] { 0 }));
        _std.copy_(pixels.std(0).clamp_min(1e-4));
    }

    public override Tensor forward(Tensor features)
    {
        if (features.dim() != 4 || features.shape[1] != Config.InChannels)
            throw new ArgumentException($"pixel classifier takes [B, {Config.InChannels}, H, W] features; got [{string.Join(", ", features.shape)}]");
        using var scope = NewDisposeScope();
        var x = (features - _mean.view(1, -1, 1, 1)) / _std.view(1, -1, 1, 1);
        return _output.forward(F.relu(_hidden.forward(x))).MoveToOuterDisposeScope();
    }
}
