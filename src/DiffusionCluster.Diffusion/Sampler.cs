using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// A denoiser: the model's raw output for x_t at integer timestep t (guidance already folded in).
/// It may carry extra learned-variance channels after the prediction channels.
public delegate Tensor Denoiser(Tensor xt, int t);

/// Called after each denoising step with the steps done, the steps in all, and what gives the step's estimate of the
/// clean sample (x0, [B, ...]; null where the caller has none): made on demand, so a caller that does not look costs
/// nothing. The estimate is for reading during the call: it and anything the call makes are disposed when it returns.
public delegate void StepProgress(int done, int total, Func<Tensor>? estimate);

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
    /// Applied to the sample after each step: ILVR's low frequencies, or inpainting's known pixels.
    public IStepRefinement? Refinement { get; init; }
    /// RePaint's resampling: each step is run this many times, the result re-noised back to the step's level
    /// between runs, so the generated region harmonises with the pasted known region (1 = plain sampling).
    public int Resample { get; init; } = 1;
    public StepProgress? Progress { get; init; }
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
        if (options.Resample < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Resample, "resample count must be >= 1");
        // The previous index's x0, kept for multistep solvers; every resampling round of a step uses the same one.
        Tensor? previousX0 = null, currentX0 = null;
        try
        {
            for (int i = options.StartIndex; i < steps.Count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                int t = steps[i], tNext = scheduler.NextTimestep(i);
                for (int round = 0; round < options.Resample; round++)
                {
                    // One scope per step: everything made here dies with the step except the new latents and x0.
                    using var scope = NewDisposeScope();
                    var (next, x0) = Step(model, x, i, t, channels, scheduler, options, previousX0);
                    if (options.Refinement is not null) next = options.Refinement.Refine(next, tNext, scheduler.Schedule, options.Generator);
                    if (round < options.Resample - 1 && tNext >= 0) next = Renoise(next, tNext, t, scheduler.Schedule, options.Generator);
                    x.Dispose();
                    x = next.MoveToOuterDisposeScope();
                    currentX0?.Dispose();
                    currentX0 = x0.MoveToOuterDisposeScope();
                }
                previousX0?.Dispose();
                (previousX0, currentX0) = (currentX0, null);
                if (options.Progress is { } progress)
                {
                    using var reading = NewDisposeScope();
                    var estimate = previousX0!;
                    progress(i + 1 - options.StartIndex, steps.Count - options.StartIndex, () => estimate);
                }
            }
        }
        finally
        {
            previousX0?.Dispose();
            currentX0?.Dispose();
        }
        return x;
    }

    static (Tensor Next, Tensor X0) Step(Denoiser model, Tensor x, int i, int t, long channels, IScheduler scheduler, SamplerOptions options, Tensor? previousX0)
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
        return (scheduler.Step(i, x, new SchedulerInput(x0, eps, varianceFraction, gradient, previousX0), options.Generator), x0);
    }

    /// The forward process from level tFrom up to the noisier tTo: x_to = sqrt(abar_to/abar_from) x + sqrt(1 - abar_to/abar_from) z.
    public static Tensor Renoise(Tensor x, int tFrom, int tTo, NoiseSchedule schedule, Generator? generator)
    {
        double ratio = schedule.AlphaBar(tTo) / schedule.AlphaBar(tFrom);
        using var scope = NewDisposeScope();
        using Scalar keep = Math.Sqrt(ratio), add = Math.Sqrt(1 - ratio); // held to the end: TorchRuntime says why
        return (keep * x + add * GaussianNoise.Like(x, generator)).MoveToOuterDisposeScope();
    }
}

/// A correction applied to the sample after each reverse step, given the timestep just reached (-1 after the last).
public interface IStepRefinement
{
    Tensor Refine(Tensor x, int timestep, NoiseSchedule schedule, Generator? generator);
}
