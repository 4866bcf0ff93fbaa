using DiffusionCluster.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion.Tests;

/// Denoisers whose answer is known in closed form, so sampler maths can be checked exactly.
internal static class Oracles
{
    /// Data is a single point x0: the exact denoiser returns x0 from any x_t.
    public static Denoiser PointMass(Tensor x0, NoiseSchedule schedule, PredictionType type) =>
        (xt, t) => Express(type, x0, xt, schedule.AlphaBar(t));

    /// Data is N(mean, std^2 I): E[x0 | x_t] = mean + std^2 sqrt(a) / (a std^2 + 1 - a) (x_t - sqrt(a) mean).
    public static Denoiser Gaussian(double mean, double std, NoiseSchedule schedule, PredictionType type) =>
        (xt, t) =>
        {
            double a = schedule.AlphaBar(t);
            using var scope = NewDisposeScope();
            var x0 = mean + std * std * Math.Sqrt(a) / (a * std * std + 1 - a) * (xt - Math.Sqrt(a) * mean);
            return Express(type, x0, xt, a).MoveToOuterDisposeScope();
        };

    /// The model output of the given type that corresponds to denoised x0 at x_t.
    static Tensor Express(PredictionType type, Tensor x0, Tensor xt, double alphaBar)
    {
        using var scope = NewDisposeScope();
        using var level = Parameterization.Level(alphaBar);
        var eps = Parameterization.EpsFromX0(xt, x0, level);
        return Parameterization.Target(type, x0.expand_as(xt), eps, level).MoveToOuterDisposeScope();
    }

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var diff = (a - b).abs().max();
        return diff.to(float64).item<double>();
    }
}
