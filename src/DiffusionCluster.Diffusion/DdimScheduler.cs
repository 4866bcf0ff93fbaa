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
        double sigma = Eta * Math.Sqrt((1 - aPrev) / (1 - aT)) * Math.Sqrt(Math.Max(0, 1 - aT / aPrev));
        using var scope = NewDisposeScope();
        using Scalar noiseT = Math.Sqrt(1 - aT), signalT = Math.Sqrt(aT), signalPrev = Math.Sqrt(aPrev),
            towardEps = Math.Sqrt(Math.Max(0, 1 - aPrev - sigma * sigma)), fresh = sigma; // held to the end: TorchRuntime says why
        var x0 = input.X0;
        var eps = input.Eps;
        if (input.Gradient is not null && aT > 0)
        {
            // Dhariwal and Nichol's conditional DDIM: shift the score, then re-derive x0 from the shifted eps.
            eps = eps - noiseT * input.Gradient;
            x0 = (xt - noiseT * eps) / signalT;
        }
        var xPrev = signalPrev * x0 + towardEps * eps;
        if (sigma > 0)
            xPrev = xPrev + fresh * GaussianNoise.Like(xt, generator);
        return xPrev.MoveToOuterDisposeScope();
    }
}
