using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Training.Trainers;

/// CLIP's symmetric contrastive loss: row i of the images should match row i of the texts and no other.
internal static class Contrastive
{
    /// logScale is the learned log temperature; the scale is capped at 100 as in CLIP.
    public static Tensor Loss(Tensor imageEmbedding, Tensor textEmbedding, Tensor logScale)
    {
        using var scope = NewDisposeScope();
        var zi = F.normalize(imageEmbedding, dim: -1);
        var zt = F.normalize(textEmbedding, dim: -1);
        var logits = logScale.exp().clamp_max(100) * zi.matmul(zt.t());
        var labels = arange(logits.shape[0], dtype: int64, device: logits.device);
        return ((F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2).MoveToOuterDisposeScope();
    }
}
