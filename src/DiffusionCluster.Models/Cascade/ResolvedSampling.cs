using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;

namespace DiffusionCluster.Models.Cascade;

/// A request's sampling options over its stage's defaults, checked against the stage's schedule: what a sampler
/// runs with.
internal sealed record ResolvedSampling(int Steps, double Guidance, Thresholding Thresholding, double Eta, int AugmentationLevel, double Layout)
{
    public static ResolvedSampling Of(SamplingOptions asked, SamplingOptions defaults, string stage, NoiseSchedule schedule)
    {
        var o = asked.Over(defaults);
        o.Validate(stage, schedule.Length);
        return new ResolvedSampling(o.Steps!.Value, o.Guidance!.Value, ParseThresholding(o.Thresholding!, stage), o.Eta!.Value,
            o.AugmentationLevel!.Value, o.Layout!.Value);
    }

    public DdimScheduler Scheduler(NoiseSchedule schedule) => new(schedule, Respacing.Evenly(Steps, schedule.Length), Eta);

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
