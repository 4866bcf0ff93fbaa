using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;

namespace DiffusionCluster.Models.Cascade;

/// A request's sampling options over its stage's defaults, checked against the stage's schedule: what a sampler
/// runs with.
internal sealed record ResolvedSampling(int Steps, double Guidance, Thresholding Thresholding, double Eta, int AugmentationLevel, double Layout,
    string Solver)
{
    public static ResolvedSampling Of(SamplingOptions asked, SamplingOptions defaults, string stage, NoiseSchedule schedule)
    {
        var o = asked.Over(defaults);
        o.Validate(stage, schedule.Length);
        return new ResolvedSampling(o.Steps!.Value, o.Guidance!.Value, ParseThresholding(o.Thresholding!, stage), o.Eta!.Value,
            o.AugmentationLevel!.Value, o.Layout!.Value, o.Solver!);
    }

    /// DDIM visits t = 0 last; DPM-Solver++ stops at about T/steps and steps from there to the clean image, so none
    /// of its few evaluations is spent at t = 0, where the sample is already clean (diffusers' "linspace" spacing).
    public IScheduler Scheduler(NoiseSchedule schedule) => Solver == SamplingOptions.DpmSolver
        ? new DpmSolverScheduler(schedule, Respacing.AboveZero(Steps, schedule.Length))
        : new DdimScheduler(schedule, Respacing.Evenly(Steps, schedule.Length), Eta);

    static Thresholding ParseThresholding(string text, string stage)
    {
        try
        {
            return Diffusion.Thresholding.Parse(text);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new ArgumentException($"{stage}: {e.Message}");
        }
    }
}
