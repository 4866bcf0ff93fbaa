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

    /// Caption -> image retrieval top-1: the share of rows i whose text embedding is closest (by cosine) to image
    /// embedding i among all the images.
    public static double RetrievalTop1(Tensor textEmbedding, Tensor imageEmbedding)
    {
        using var scope = NewDisposeScope();
        var similarity = F.normalize(textEmbedding, dim: -1).matmul(F.normalize(imageEmbedding, dim: -1).t());
        return (similarity.argmax(1) == arange(similarity.shape[0], device: similarity.device)).to(float32).mean().item<float>();
    }

    /// Cosine similarity per row.
    public static Tensor Cosine(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (F.normalize(a, dim: -1) * F.normalize(b, dim: -1)).sum(-1).MoveToOuterDisposeScope();
    }
}
