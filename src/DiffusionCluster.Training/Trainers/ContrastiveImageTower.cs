using DiffusionCluster.Models.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// An image tower and its learned temperature, trained contrastively against a frozen text tower's embeddings
/// (the noise-aware CLIP and `clip-image`).
internal sealed class ContrastiveImageTower : nn.Module
{
    readonly ImageEncoder _encoder;
    readonly Parameter _logitScale;

    public ContrastiveImageTower(ImageEncoder encoder, double initialScale) : base(nameof(ContrastiveImageTower))
    {
        _encoder = encoder;
        _logitScale = nn.Parameter(tensor((float)Math.Log(initialScale)));
        RegisterComponents();
    }

    public ImageEncoder Encoder => _encoder;

    /// timesteps only for a time-conditioned encoder (the images are then x_t).
    public Tensor ContrastiveLoss(Tensor images, Tensor textEmbedding, Tensor? timesteps = null)
    {
        using var imageEmbedding = _encoder.forward(images, timesteps);
        return Contrastive.Loss(imageEmbedding, textEmbedding, _logitScale);
    }
}
