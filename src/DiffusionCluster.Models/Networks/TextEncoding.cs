using static TorchSharp.torch;

namespace DiffusionCluster.Models.Networks;

/// A text encoder's output: per-token features [B, L, W] for cross-attention, the padding mask [B, L]
/// (true = real token), the pooled, projected embedding [B, E] (CLIP's z_t) and, when the encoder kept them, the token
/// ids [B, L] it read (int64), for a network with a text encoder of its own (the layout model).
public sealed record TextEncoding(Tensor Tokens, Tensor Mask, Tensor Pooled, Tensor? Ids = null) : IDisposable
{
    /// The whole batch stacked times over: [rows; rows; ...] (a guided pass's two halves, a prior's candidates).
    public TextEncoding Repeat(int times) => times == 1 ? this : new(
        cat(Enumerable.Repeat(Tokens, times).ToArray()),
        cat(Enumerable.Repeat(Mask, times).ToArray()),
        cat(Enumerable.Repeat(Pooled, times).ToArray()),
        Ids is null ? null : cat(Enumerable.Repeat(Ids, times).ToArray()));

    /// The features in a network's dtype (the mask stays boolean).
    public TextEncoding To(ScalarType dtype) => new(Tokens.to(dtype), Mask, Pooled.to(dtype), Ids);

    /// The mean token feature [B, W] over the tokens a mask keeps (by default the real tokens); zero for a row with none.
    public Tensor MeanToken(Tensor? mask = null)
    {
        using var scope = NewDisposeScope();
        var weights = (mask ?? Mask).to(Tokens.dtype).unsqueeze(-1);
        return ((Tokens * weights).sum(1) / weights.sum(1).clamp_min(1)).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Tokens.Dispose();
        Mask.Dispose();
        Pooled.Dispose();
        Ids?.Dispose();
    }
}
