using DiffusionCluster.Models.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Optimization;

/// AdamW (Loshchilov and Hutter) written out, so its whole state (moments and step) saves to safetensors
/// beside the weights and a resumed run continues bit for bit.
public sealed class AdamW
{
    readonly (string Name, Parameter Parameter)[] _parameters;
    readonly Dictionary<string, Tensor> _firstMoment = new();
    readonly Dictionary<string, Tensor> _secondMoment = new();

    public AdamW(IEnumerable<(string Name, Parameter Parameter)> parameters, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
    {
        _parameters = parameters.Where(p => p.Parameter.requires_grad).ToArray();
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        foreach (var (name, p) in _parameters)
        {
            _firstMoment[name] = zeros_like(p).DetachFromDisposeScope();
            _secondMoment[name] = zeros_like(p).DetachFromDisposeScope();
        }
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Epsilon { get; }
    public double WeightDecay { get; }
    public long Steps { get; private set; }

    public IEnumerable<Parameter> Parameters => _parameters.Select(p => p.Parameter);

    public void Step(double learningRate)
    {
        Steps++;
        double correction1 = 1 - Math.Pow(Beta1, Steps), correction2 = 1 - Math.Pow(Beta2, Steps);
        // Every number operand as a Scalar held to the end of the step: one TorchSharp makes on the fly can be
        // finalised by the GC while the native op still reads it (libtorch's rare "Expected false to be true" from
        // Scalar::toFloat, met in training runs).
        using Scalar beta1 = Beta1, keep1 = 1 - Beta1, beta2 = Beta2, keep2 = 1 - Beta2, decay = 1 - learningRate * WeightDecay,
            secondCorrection = correction2, epsilon = Epsilon, stepSize = -learningRate / correction1, one = 1;
        using var _ = no_grad();
        foreach (var (name, p) in _parameters)
        {
            using var grad = p.grad;
            if (grad is null) continue;
            using var scope = NewDisposeScope();
            var m = _firstMoment[name];
            var v = _secondMoment[name];
            m.mul_(beta1).add_(grad, alpha: keep1);
            v.mul_(beta2).addcmul_(grad, grad, value: keep2);
            if (WeightDecay > 0 && p.dim() > 1) p.mul_(decay); // no decay on biases and norms
            // add_(Scalar) alone passes an alpha of 1 that TorchSharp makes on the fly: held here too.
            var denominator = (v / secondCorrection).sqrt_().add_(epsilon, one);
            p.addcdiv_(m, denominator, value: stepSize);
        }
    }

    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        foreach (var (_, p) in _parameters) p.grad?.zero_();
    }

    /// Scales gradients so their global L2 norm is at most maxNorm; returns the norm before clipping.
    public double ClipGradients(double maxNorm)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var norms = _parameters.Where(p => p.Parameter.grad is not null).Select(p => p.Parameter.grad!.norm()).ToArray();
        if (norms.Length == 0) return 0;
        double total = stack(norms).norm().item<float>();
        using Scalar factor = maxNorm / (total + 1e-6); // held to the end (Step says why)
        if (total > maxNorm)
            foreach (var (_, p) in _parameters) p.grad?.mul_(factor);
        return total;
    }

    public void Save(string path)
    {
        using var step = tensor(new[] { Steps });
        var state = new Dictionary<string, Tensor> { ["__step__"] = step };
        foreach (var (name, _) in _parameters)
        {
            state["m." + name] = _firstMoment[name];
            state["v." + name] = _secondMoment[name];
        }
        Safetensors.Save(path, state);
    }

    public void Load(string path)
    {
        using var step = zeros(1, dtype: int64);
        var state = new Dictionary<string, Tensor> { ["__step__"] = step };
        foreach (var (name, _) in _parameters)
        {
            state["m." + name] = _firstMoment[name];
            state["v." + name] = _secondMoment[name];
        }
        Safetensors.LoadInto(path, state);
        Steps = step.item<long>();
    }
}
