using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Layers;

/// Pre-norm Transformer block: x + attn(ln(x)), then x + mlp(ln(x)).
internal sealed class TransformerBlock : nn.Module
{
    readonly LayerNorm _attentionNorm;
    readonly MultiHeadAttention _attention;
    readonly LayerNorm _mlpNorm;
    readonly Linear _mlpIn;
    readonly Linear _mlpOut;

    public TransformerBlock(long width, long heads, long mlpRatio = 4) : base(nameof(TransformerBlock))
    {
        _attentionNorm = Init.LayerNorm(width);
        _attention = new MultiHeadAttention(width, width, heads);
        _mlpNorm = Init.LayerNorm(width);
        _mlpIn = nn.Linear(width, width * mlpRatio);
        _mlpOut = nn.Linear(width * mlpRatio, width);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        var normed = _attentionNorm.forward(x);
        x = x + _attention.forward(normed, normed, keyMask);
        x = x + _mlpOut.forward(F.gelu(_mlpIn.forward(_mlpNorm.forward(x))));
        return x.MoveToOuterDisposeScope();
    }
}
