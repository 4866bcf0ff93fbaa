using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Layers;

/// Pre-norm Transformer decoder block: x + self-attn(ln(x)), x + cross-attn(ln(x), context), x + mlp(ln(x)).
/// The queries pay for the MLP; the context (already encoded) is only attended to.
internal sealed class CrossTransformerBlock : nn.Module
{
    readonly LayerNorm _selfNorm;
    readonly MultiHeadAttention _self;
    readonly LayerNorm _crossNorm;
    readonly MultiHeadAttention _cross;
    readonly LayerNorm _mlpNorm;
    readonly Linear _mlpIn;
    readonly Linear _mlpOut;

    public CrossTransformerBlock(long width, long contextWidth, long heads, long mlpRatio = 4) : base(nameof(CrossTransformerBlock))
    {
        _selfNorm = Init.LayerNorm(width);
        _self = new MultiHeadAttention(width, width, heads);
        _crossNorm = Init.LayerNorm(width);
        _cross = new MultiHeadAttention(width, contextWidth, heads);
        _mlpNorm = Init.LayerNorm(width);
        _mlpIn = nn.Linear(width, width * mlpRatio);
        _mlpOut = nn.Linear(width * mlpRatio, width);
        RegisterComponents();
    }

    /// x: [B, N, width]; context: [B, M, contextWidth]; contextMask: [B, M], true = attend.
    public Tensor forward(Tensor x, Tensor context, Tensor? contextMask)
    {
        using var scope = NewDisposeScope();
        var normed = _selfNorm.forward(x);
        x = x + _self.forward(normed, normed, null);
        x = x + _cross.forward(_crossNorm.forward(x), context, contextMask);
        x = x + _mlpOut.forward(F.gelu(_mlpIn.forward(_mlpNorm.forward(x))));
        return x.MoveToOuterDisposeScope();
    }
}
