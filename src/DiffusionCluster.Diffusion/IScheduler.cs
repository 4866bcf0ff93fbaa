using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// One reverse-process step rule over a fixed list of visited timesteps (diffusers' scheduler shape).
public interface IScheduler
{
    NoiseSchedule Schedule { get; }

    /// Visited timesteps, noisiest first.
    IReadOnlyList<int> Timesteps { get; }

    /// x_{t_i} -> x_{t_{i+1}} (x_0 after the last index), given the denoiser's x_0 and eps at x_{t_i}.
    Tensor Step(int index, Tensor xt, SchedulerInput input, Generator? generator);
}

/// What a scheduler step needs from the model. VarianceFraction is the optional learned-variance
/// output in [-1, 1] (improved DDPM); Gradient is a guidance gradient grad_x log p(c | x_t), already scaled;
/// PreviousX0 is the x0 of the previous visited index in this run (null on its first step), for multistep solvers.
public sealed record SchedulerInput(Tensor X0, Tensor Eps, Tensor? VarianceFraction = null, Tensor? Gradient = null, Tensor? PreviousX0 = null);

public static class SchedulerExtensions
{
    /// The timestep after visited index i: the next visited one, or -1 (the clean image) after the last.
    public static int NextTimestep(this IScheduler scheduler, int index) =>
        index + 1 < scheduler.Timesteps.Count ? scheduler.Timesteps[index + 1] : -1;

    internal static int[] Descending(int[] ascending) => ascending.Reverse().ToArray();
}
