using static TorchSharp.torch;

namespace DiffusionCluster.Models.Networks;

/// Everything a U-Net stage may be conditioned on; which parts are required follows from its config.
/// LowRes is the previous stage's image at its own resolution; AugmentationLevel [B] its noise level.
/// DropConditioning [B] bool marks rows that see the null condition (classifier-free guidance).
public sealed record UNetConditioning(
    TextEncoding? Text = null,
    Tensor? ImageEmbedding = null,
    Tensor? LowRes = null,
    Tensor? AugmentationLevel = null,
    Tensor? DropConditioning = null);
