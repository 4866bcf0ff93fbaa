using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Editing;

/// GLIDE's CLIP guidance: the gradient of scale * cos(f(x_t, t), g(c)) with respect to x_t, where f is the
/// noise-aware image encoder and g(c) the caption's pooled text embedding. The scheduler turns it into a
/// shift of the predicted noise (DDIM) or of the posterior mean (DDPM).
public sealed class ClipGuidance(ImageEncoder noisyEncoder, Tensor textEmbedding, double scale)
{
    public const double MaxScale = 10_000;

    readonly ScalarType _dtype = noisyEncoder.parameters().First().dtype;

    public double Scale { get; } = scale is >= 0 and <= MaxScale
        ? scale
        : throw new ArgumentException($"CLIP guidance scale = {scale}; allowed 0 to {MaxScale}");

    public GuidanceGradient Gradient => (x, t) =>
    {
        using var scope = NewDisposeScope();
        using var _ = enable_grad();
        var input = x.detach().requires_grad_(true);
        var steps = full(new[] { x.shape[0] }, t, int64, x.device);
        var encoded = noisyEncoder.forward(input.to(_dtype), steps).to(ScalarType.Float32);
        var similarity = ClipSpace.Cosine(encoded, textEmbedding).sum();
        var gradient = autograd.grad(new[] { similarity }, new[] { input })[0];
        return (Scale * gradient.detach()).MoveToOuterDisposeScope();
    };
}
