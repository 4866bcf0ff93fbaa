using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Layers;

/// Multi-head attention of queries [B, N, D] over a context [B, M, Dc], with an optional key mask [B, M]
/// (true = attend).
internal sealed class MultiHeadAttention : nn.Module
{
    readonly long _heads;
    readonly Linear _query;
    readonly Linear _key;
    readonly Linear _value;
    readonly Linear _output;

    public MultiHeadAttention(long width, long contextWidth, long heads) : base(nameof(MultiHeadAttention))
    {
        if (width % heads != 0) throw new ArgumentException($"attention width {width} is not divisible by {heads} heads");
        _heads = heads;
        _query = nn.Linear(width, width);
        _key = nn.Linear(contextWidth, width);
        _value = nn.Linear(contextWidth, width);
        _output = nn.Linear(width, width);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor context, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], m = context.shape[1], d = x.shape[2];
        var q = _query.forward(x).view(b, n, _heads, d / _heads).transpose(1, 2);
        var k = _key.forward(context).view(b, m, _heads, d / _heads).transpose(1, 2);
        var v = _value.forward(context).view(b, m, _heads, d / _heads).transpose(1, 2);
        var mask = keyMask?.view(b, 1, 1, m);
        var attended = F.scaled_dot_product_attention(q, k, v, mask);
        return _output.forward(attended.transpose(1, 2).reshape(b, n, d)).MoveToOuterDisposeScope();
    }
}
