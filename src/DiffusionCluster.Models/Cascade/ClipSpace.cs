using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Cascade;

/// CLIP embeddings as the cascade uses them: unit length (CLIP compares by cosine), scaled by sqrt(dim) so
/// each entry has unit variance, the scale diffusion noise is defined at.
public static class ClipSpace
{
    public static Tensor Normalise(Tensor embedding)
    {
        using var scope = NewDisposeScope();
        return (F.normalize(embedding, dim: -1) * Math.Sqrt(embedding.shape[^1])).MoveToOuterDisposeScope();
    }

    /// Cosine similarity per row.
    public static Tensor Cosine(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (F.normalize(a, dim: -1) * F.normalize(b, dim: -1)).sum(-1).MoveToOuterDisposeScope();
    }
}
