using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// A denoiser: the model's raw output for x_t at integer timestep t (guidance already folded in).
/// It may carry extra learned-variance channels after the prediction channels.
public delegate Tensor Denoiser(Tensor xt, int t);

/// A guidance gradient grad_x log p(c | x_t), already multiplied by its scale (e.g. CLIP guidance).
public delegate Tensor GuidanceGradient(Tensor xt, int t);

public sealed record SamplerOptions
{
    public PredictionType Prediction { get; init; } = PredictionType.Epsilon;
    public Thresholding Thresholding { get; init; } = Thresholding.None;
    /// First visited index to run (SDEdit starts part-way down; see SdEdit.Start).
    public int StartIndex { get; init; }
    public Generator? Generator { get; init; }
    public GuidanceGradient? Gradient { get; init; }
    public Ilvr? Ilvr { get; init; }
    /// Called after each step with (steps done, steps total).
    public Action<int, int>? Progress { get; init; }
}

/// The reverse-process loop, written out plainly: predict, split into (x0, eps), threshold, step.
public static class Sampler
{
    public static Tensor Sample(Denoiser model, Tensor xStart, IScheduler scheduler, SamplerOptions options, CancellationToken cancellation = default)
    {
        var steps = scheduler.Timesteps;
        if (options.StartIndex < 0 || options.StartIndex >= steps.Count)
            throw new ArgumentOutOfRangeException(nameof(options), options.StartIndex, $"start index must be within the {steps.Count} visited steps");
        long channels = xStart.shape[1];
        var x = xStart.alias();
        for (int i = options.StartIndex; i < steps.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            int t = steps[i];
            // One scope per step: everything made here dies with the step except the new latents.
            using (var scope = NewDisposeScope())
            {
                var output = model(x, t);
                var prediction = output.shape[1] == channels ? output : output[.., ..(int)channels];
                Tensor? varianceFraction = output.shape[1] == 2 * channels ? output[.., (int)channels..] : null;
                if (output.shape[1] != channels && varianceFraction is null)
                    throw new InvalidOperationException($"denoiser returned {output.shape[1]} channels for a {channels}-channel input; expected {channels} or {2 * channels}");

                using var alphaBar = Parameterization.Level(scheduler.Schedule.AlphaBar(t));
                var (x0, eps) = Parameterization.ToX0AndEps(options.Prediction, prediction, x, alphaBar);
                if (options.Thresholding is not NoThresholding)
                {
                    x0 = options.Thresholding.Apply(x0);
                    eps = Parameterization.EpsFromX0(x, x0, alphaBar);
                }
                var gradient = options.Gradient?.Invoke(x, t);
                var next = scheduler.Step(i, x, new SchedulerInput(x0, eps, varianceFraction, gradient), options.Generator);
                if (options.Ilvr is not null)
                    next = options.Ilvr.Refine(next, scheduler.NextTimestep(i), scheduler.Schedule, options.Generator);
                x.Dispose();
                x = next.MoveToOuterDisposeScope();
            }
            options.Progress?.Invoke(i + 1 - options.StartIndex, steps.Count - options.StartIndex);
        }
        return x;
    }
}
