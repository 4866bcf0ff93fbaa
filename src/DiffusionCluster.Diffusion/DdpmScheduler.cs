using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// DDPM ancestral sampling from the posterior q(x_prev | x_t, x0) over any respaced timesteps:
/// beta' = 1 - abar_t/abar_prev, mean = sqrt(abar_prev) beta'/(1-abar_t) x0 + sqrt(1-beta') (1-abar_prev)/(1-abar_t) x_t.
public sealed class DdpmScheduler : IScheduler
{
    public DdpmScheduler(NoiseSchedule schedule, int[] ascendingTimesteps, DdpmVariance variance = DdpmVariance.Posterior)
    {
        Schedule = schedule;
        Timesteps = SchedulerExtensions.Descending(ascendingTimesteps);
        Variance = variance;
    }

    public NoiseSchedule Schedule { get; }
    public IReadOnlyList<int> Timesteps { get; }
    public DdpmVariance Variance { get; }

    public Tensor Step(int index, Tensor xt, SchedulerInput input, Generator? generator)
    {
        double aT = Schedule.AlphaBar(Timesteps[index]);
        double aPrev = Schedule.AlphaBar(this.NextTimestep(index));
        double beta = 1 - aT / aPrev;
        double posteriorVariance = beta * (1 - aPrev) / (1 - aT);
        using var scope = NewDisposeScope();
        var mean = Math.Sqrt(aPrev) * beta / (1 - aT) * input.X0 + Math.Sqrt(1 - beta) * (1 - aPrev) / (1 - aT) * xt;
        if (posteriorVariance <= 0) return mean.MoveToOuterDisposeScope(); // the last step lands on x0 exactly

        Tensor variance = input.VarianceFraction is { } v
            // Improved DDPM: interpolate log variance between the posterior and beta by (v + 1) / 2.
            ? (((v + 1) / 2) * Math.Log(beta) + ((1 - v) / 2) * Math.Log(posteriorVariance)).exp()
            : tensor(Variance == DdpmVariance.Posterior ? posteriorVariance : beta, xt.dtype, xt.device);
        if (input.Gradient is not null)
            mean = mean + variance * input.Gradient; // GLIDE / Dhariwal: shift the mean by Sigma * grad
        var noise = GaussianNoise.Like(xt, generator);
        return (mean + variance.sqrt() * noise).MoveToOuterDisposeScope();
    }
}

public enum DdpmVariance
{
    /// beta~ = beta (1 - abar_prev)/(1 - abar_t): the true posterior variance (lower bound).
    Posterior,
    /// beta: the upper bound.
    Beta,
}
