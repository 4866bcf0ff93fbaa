using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// DPM-Solver++(2M) (Lu et al. 2022): the multistep second-order solver of the probability-flow ODE in its
/// data-prediction form, deterministic like DDIM (eta = 0) but with error falling as 1/steps^2 rather than 1/steps.
/// With alpha = sqrt(abar), sigma = sqrt(1 - abar), lambda = log(alpha / sigma) and h = lambda_t - lambda_s, a step
/// s -> t is
///   x_t = (sigma_t / sigma_s) x_s + alpha_t (1 - e^-h) D,
/// where D = x0(s) on the first step (DDIM's update) and, after it, the linear extrapolation in lambda
///   D = (1 + 1/(2r)) x0(s) - 1/(2r) x0(previous), r = h_previous / h.
/// The last step lands on the clean image (sigma = 0, h infinite), where the update is x0(s) itself.
public sealed class DpmSolverScheduler : IScheduler
{
    public DpmSolverScheduler(NoiseSchedule schedule, int[] ascendingTimesteps)
    {
        Schedule = schedule;
        Timesteps = SchedulerExtensions.Descending(ascendingTimesteps);
    }

    public NoiseSchedule Schedule { get; }
    public IReadOnlyList<int> Timesteps { get; }

    public Tensor Step(int index, Tensor xt, SchedulerInput input, Generator? generator)
    {
        int s = Timesteps[index], t = this.NextTimestep(index);
        double aS = Schedule.AlphaBar(s);
        using var scope = NewDisposeScope();
        var x0 = input.X0;
        if (input.Gradient is not null && aS > 0)
        {
            // As in DDIM: shift the score, then re-derive x0 from the shifted eps.
            using Scalar noiseS = Math.Sqrt(1 - aS), signalS = Math.Sqrt(aS); // held to the end: TorchRuntime says why
            var eps = input.Eps - noiseS * input.Gradient;
            x0 = (xt - noiseS * eps) / signalS;
        }
        if (t < 0) return x0.alias().MoveToOuterDisposeScope();

        double aT = Schedule.AlphaBar(t);
        double h = Lambda(aT) - Lambda(aS);
        var d = x0;
        if (input.PreviousX0 is not null && index > 0)
        {
            double hPrevious = Lambda(aS) - Lambda(Schedule.AlphaBar(Timesteps[index - 1]));
            double halfInverseRatio = h / (2 * hPrevious);
            // An infinite previous step (a zero-SNR start) leaves nothing to extrapolate from: first order.
            using Scalar current = 1 + halfInverseRatio, previous = halfInverseRatio; // held to the end: TorchRuntime says why
            if (double.IsFinite(halfInverseRatio)) d = current * x0 - previous * input.PreviousX0;
        }
        using Scalar keep = Math.Sqrt((1 - aT) / (1 - aS)), take = Math.Sqrt(aT) * (1 - Math.Exp(-h));
        var xNext = keep * xt + take * d;
        return xNext.MoveToOuterDisposeScope();
    }

    /// Half the log signal-to-noise ratio: log(alpha / sigma).
    static double Lambda(double alphaBar) => 0.5 * (Math.Log(alphaBar) - Math.Log(1 - alphaBar));
}
