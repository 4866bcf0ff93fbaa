using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Layers;

/// GroupNorm-SiLU-conv twice, with the embedding applied as a scale and shift (BigGAN / improved DDPM),
/// and a 1x1 skip when the width changes. Without an embedding it is a plain residual block.
internal sealed class ResBlock : nn.Module
{
    readonly GroupNorm _norm1;
    readonly Conv2d _conv1;
    readonly Linear? _embedding;
    readonly GroupNorm _norm2;
    readonly Conv2d _conv2;
    readonly Conv2d? _skip;

    public ResBlock(long inChannels, long outChannels, long embeddingWidth) : base(nameof(ResBlock))
    {
        _norm1 = Init.GroupNorm(inChannels);
        _conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        _embedding = embeddingWidth > 0 ? nn.Linear(embeddingWidth, 2 * outChannels) : null;
        _norm2 = Init.GroupNorm(outChannels);
        _conv2 = Init.Zeroed(nn.Conv2d(outChannels, outChannels, 3, padding: 1));
        _skip = inChannels != outChannels ? nn.Conv2d(inChannels, outChannels, 1) : null;
        RegisterComponents();
    }

    /// Its own dispose scope: at high resolution only the block's output outlives the block.
    public Tensor forward(Tensor x, Tensor? embedding)
    {
        using var scope = NewDisposeScope();
        var h = _conv1.forward(F.silu(_norm1.forward(x)));
        h = _norm2.forward(h);
        if (_embedding is not null && embedding is not null)
        {
            var scaleShift = _embedding.forward(F.silu(embedding)).unsqueeze(-1).unsqueeze(-1).chunk(2, 1);
            // h (1 + scale) + shift, written without a number operand: TorchSharp wraps such a number in a native
            // Scalar that the GC can finalize while the native op still reads it (seen as rare "toFloat" failures
            // under load), and this line runs in every block at every step.
            h = h + h * scaleShift[0] + scaleShift[1];
        }
        h = _conv2.forward(F.silu(h));
        var skip = _skip is null ? x : _skip.forward(x);
        return (skip + h).MoveToOuterDisposeScope();
    }
}
