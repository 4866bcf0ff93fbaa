using DiffusionCluster.Models.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Optimization;

/// Shadow weights w_ema <- d w_ema + (1 - d) w, with the decay warmed up as min(d, (1 + n)/(10 + n)) so early
/// shadows are not stuck at the random start. The EMA weights are the ones shipped.
public sealed class ExponentialMovingAverage
{
    readonly nn.Module _module;
    readonly Dictionary<string, Tensor> _shadow;

    public ExponentialMovingAverage(nn.Module module, double decay)
    {
        _module = module;
        Decay = decay;
        using var _ = no_grad();
        _shadow = module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
    }

    public double Decay { get; }
    public IReadOnlyDictionary<string, Tensor> Shadow => _shadow;

    public void Update(long step)
    {
        double decay = Math.Min(Decay, (1.0 + step) / (10.0 + step));
        // Scalars held to the end of the update, as AdamW.Step holds its own (see there).
        using Scalar keep = decay, take = 1 - decay;
        using var _ = no_grad();
        foreach (var (name, value) in _module.state_dict())
            if (value.is_floating_point()) _shadow[name].mul_(keep).add_(value, alpha: take);
            else _shadow[name].copy_(value);
    }

    public void Save(string path) => Safetensors.Save(path, _shadow);

    public void Load(string path) => Safetensors.LoadInto(path, _shadow);
}
