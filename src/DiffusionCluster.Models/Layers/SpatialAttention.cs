using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Layers;

/// Self-attention over the pixels of a feature map, then cross-attention from the pixels to the
/// conditioning tokens (text tokens and unCLIP image tokens), each residual.
internal sealed class SpatialAttention : nn.Module
{
    readonly GroupNorm _norm;
    readonly MultiHeadAttention _self;
    readonly LayerNorm? _crossNorm;
    readonly MultiHeadAttention? _cross;
    readonly Linear _output;

    public SpatialAttention(long channels, long heads, long contextWidth) : base(nameof(SpatialAttention))
    {
        _norm = Init.GroupNorm(channels);
        _self = new MultiHeadAttention(channels, channels, heads);
        if (contextWidth > 0)
        {
            _crossNorm = Init.LayerNorm(channels);
            _cross = new MultiHeadAttention(channels, contextWidth, heads);
        }
        _output = Init.Zeroed(nn.Linear(channels, channels));
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor? context, Tensor? contextMask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var tokens = _norm.forward(x).reshape(b, c, h * w).transpose(1, 2);
        tokens = tokens + _self.forward(tokens, tokens, null);
        if (_cross is not null && context is not null)
            tokens = tokens + _cross.forward(_crossNorm!.forward(tokens), context, contextMask);
        var update = _output.forward(tokens).transpose(1, 2).reshape(b, c, h, w);
        return (x + update).MoveToOuterDisposeScope();
    }
}
