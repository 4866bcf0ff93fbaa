using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Diffusion;

/// ILVR (Choi et al.): after each step, replace the sample's low frequencies with those of the reference
/// noised to the same level: x <- x - phi_N(x) + phi_N(q_sample(y, t)), for timesteps at or above a cut-off.
public sealed class Ilvr : IStepRefinement
{
    /// noise: the noise that takes the reference to a timestep, [B, ...] (a cascade draws each row from its request's
    /// own seed, so a request gets the same image alone or in a batch); null draws it from the sampler's generator.
    public Ilvr(Tensor reference, int factor, int minTimestep = -1, Func<int, Tensor>? noise = null)
    {
        _noise = noise;
        if (factor < 1) throw new ArgumentOutOfRangeException(nameof(factor), factor, "ILVR factor N must be >= 1");
        if (reference.shape[^1] % factor != 0 || reference.shape[^2] % factor != 0)
            throw new ArgumentException($"reference of {reference.shape[^2]}x{reference.shape[^1]} pixels is not divisible by ILVR factor {factor}");
        Reference = reference;
        Factor = factor;
        MinTimestep = minTimestep;
    }

    readonly Func<int, Tensor>? _noise;

    public Tensor Reference { get; }
    public int Factor { get; }
    /// Refinement applies while the timestep being reached is >= this (-1 means through the final step).
    public int MinTimestep { get; }

    /// phi_N: average-pool down by N, then nearest up: a projection (phi(phi(x)) = phi(x)), so after a
    /// refinement the sample's low frequencies are exactly the noised reference's.
    public Tensor LowPass(Tensor x)
    {
        if (Factor == 1) return x.alias();
        using var scope = NewDisposeScope();
        var down = F.avg_pool2d(x, Factor);
        var up = F.interpolate(down, new[] { x.shape[^2], x.shape[^1] }, mode: InterpolationMode.Nearest);
        return up.MoveToOuterDisposeScope();
    }

    public Tensor Refine(Tensor x, int timestep, NoiseSchedule schedule, Generator? generator)
    {
        if (timestep < MinTimestep) return x.alias();
        using var scope = NewDisposeScope();
        var noisedReference = timestep < 0
            ? Reference.alias()
            : schedule.AddNoise(Reference, _noise?.Invoke(timestep) ?? GaussianNoise.Like(Reference, generator), timestep);
        return (x - LowPass(x) + LowPass(noisedReference)).MoveToOuterDisposeScope();
    }
}
