using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// DDIM (Song et al.): x_prev = sqrt(abar_prev) x0 + sqrt(1 - abar_prev - sigma^2) eps + sigma z,
/// sigma = eta sqrt((1 - abar_prev)/(1 - abar_t)) sqrt(1 - abar_t/abar_prev). eta = 0 is deterministic.
public sealed class DdimScheduler : IScheduler
{
    public DdimScheduler(NoiseSchedule schedule, int[] ascendingTimesteps, double eta = 0)
    {
        if (eta < 0) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be >= 0");
        Schedule = schedule;
        Timesteps = SchedulerExtensions.Descending(ascendingTimesteps);
        Eta = eta;
    }

    public NoiseSchedule Schedule { get; }
    public IReadOnlyList<int> Timesteps { get; }
    public double Eta { get; }

    public Tensor Step(int index, Tensor xt, SchedulerInput input, Generator? generator)
    {
        double aT = Schedule.AlphaBar(Timesteps[index]);
        double aPrev = Schedule.AlphaBar(this.NextTimestep(index));
        using var scope = NewDisposeScope();
        var x0 = input.X0;
        var eps = input.Eps;
        if (input.Gradient is not null && aT > 0)
        {
            // Dhariwal and Nichol's conditional DDIM: shift the score, then re-derive x0 from the shifted eps.
            eps = eps - Math.Sqrt(1 - aT) * input.Gradient;
            x0 = (xt - Math.Sqrt(1 - aT) * eps) / Math.Sqrt(aT);
        }
        double sigma = Eta * Math.Sqrt((1 - aPrev) / (1 - aT)) * Math.Sqrt(Math.Max(0, 1 - aT / aPrev));
        var xPrev = Math.Sqrt(aPrev) * x0 + Math.Sqrt(Math.Max(0, 1 - aPrev - sigma * sigma)) * eps;
        if (sigma > 0)
            xPrev = xPrev + sigma * GaussianNoise.Like(xt, generator);
        return xPrev.MoveToOuterDisposeScope();
    }
}
