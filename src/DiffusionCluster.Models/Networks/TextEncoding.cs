using static TorchSharp.torch;

namespace DiffusionCluster.Models.Networks;

/// A text encoder's output: per-token features [B, L, W] for cross-attention, the padding mask [B, L]
/// (true = real token) and the pooled, projected embedding [B, E] (CLIP's z_t).
public sealed record TextEncoding(Tensor Tokens, Tensor Mask, Tensor Pooled) : IDisposable
{
    public void Dispose()
    {
        Tokens.Dispose();
        Mask.Dispose();
        Pooled.Dispose();
    }
}
