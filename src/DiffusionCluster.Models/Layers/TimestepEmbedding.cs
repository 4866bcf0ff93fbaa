using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Layers;

/// Sinusoidal features of an integer level (timestep or augmentation level), then a two-layer MLP.
internal sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    readonly long _features;
    readonly Linear _in;
    readonly Linear _out;

    public TimestepEmbedding(long features, long width) : base(nameof(TimestepEmbedding))
    {
        _features = features;
        _in = nn.Linear(features, width);
        _out = nn.Linear(width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        return _out.forward(F.silu(_in.forward(Sinusoidal(timesteps, _features).to(_in.weight!.dtype)))).MoveToOuterDisposeScope();
    }

    /// [cos(t f_i), sin(t f_i)] with f_i = 10000^(-i/half), as in the Transformer and DDPM.
    public static Tensor Sinusoidal(Tensor timesteps, long features)
    {
        using var scope = NewDisposeScope();
        long half = features / 2;
        var freqs = exp(arange(half, float32, timesteps.device) * (-Math.Log(10000) / half));
        var args = timesteps.to(float32).unsqueeze(1) * freqs.unsqueeze(0);
        var emb = cat(new[] { cos(args), sin(args) }, 1);
        if (features % 2 == 1) emb = F.pad(emb, new long[] { 0, 1 });
        return emb.MoveToOuterDisposeScope();
    }
}
