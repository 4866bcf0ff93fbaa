using DiffusionCluster.Diffusion;

namespace DiffusionCluster.Models.Cascade;

/// How one diffusion stage samples: step count, guidance weight, thresholding, DDIM eta, for super-resolution the
/// noise-augmentation level its input is given, and for the base decoder the layout share: the fraction of the
/// sampling trajectory, from pure noise, that ILVR holds to the layout model's picture of the caption (0: off; above 0
/// needs a layout model in the folder; null: DefaultLayoutShare when the folder has a layout model, else off; an image
/// edit, which brings its own guide, a decode from a given start latent, or an uncaptioned decode ignores it).
public sealed record StageSampling(int Steps, double Guidance, string Thresholding = "none", double Eta = 0, int AugmentationLevel = 0, double? Layout = null)
{
    /// The share a null Layout means with a layout model: the bundled layout model's measured best (two-object dev
    /// prompts fully correct 65.0% at 0.9 against 55.0% at 0.7; `study layout-guide`, docs/MODEL_CARD.md).
    public const double DefaultLayoutShare = 0.9;

    public static StageSampling PriorDefault { get; } = new(25, 4.0);
    public static StageSampling DecoderDefault { get; } = new(25, 2.0, "dynamic:0.95:1.5");
    /// 2 steps for both SR stages: the scaled-residual stages measured best at 2 steps, 1 close behind (an earlier
    /// sr256 than the bundled one: 37.93 / 37.73 dB; `eval --sr-only`, docs/MODEL_CARD.md); few steps stay near the
    /// model's mean estimate. The SR inputs are not noised: that earlier sr256 measured best without it on exact and on
    /// blurred inputs alike (`study sr-aug`), and its sr1024 by 0.11 dB over level 100 on 6 held-out scenes
    /// (`eval --sr-only --sr1024-images 6 --limit 6`); neither was re-measured on the bundled SR stages.
    public static StageSampling Sr256Default { get; } = new(2, 1.0, "static", AugmentationLevel: 0);
    public static StageSampling Sr1024Default { get; } = new(2, 1.0, "static", AugmentationLevel: 0);

    public const int MaxSteps = 1000;
    public const double MaxGuidance = 50;

    /// Throws naming the stage, the value and the limit.
    public void Validate(string stage, int trainTimesteps)
    {
        if (Steps < 1 || Steps > Math.Min(MaxSteps, trainTimesteps))
            throw new ArgumentException($"{stage}: steps = {Steps}; allowed 1 to {Math.Min(MaxSteps, trainTimesteps)}");
        if (Guidance < 0 || Guidance > MaxGuidance || double.IsNaN(Guidance))
            throw new ArgumentException($"{stage}: guidance = {Guidance}; allowed 0 to {MaxGuidance}");
        if (Eta < 0 || Eta > 1 || double.IsNaN(Eta))
            throw new ArgumentException($"{stage}: eta = {Eta}; allowed 0 to 1");
        if (Layout is { } layout && !(layout >= 0 && layout <= 1))
            throw new ArgumentException($"{stage}: layout = {Layout}; allowed 0 to 1");
        if (AugmentationLevel < 0 || AugmentationLevel >= trainTimesteps)
            throw new ArgumentException($"{stage}: augmentation level = {AugmentationLevel}; allowed 0 to {trainTimesteps - 1}");
        ParseThresholding(stage);
    }

    public Thresholding ParseThresholding(string stage)
    {
        try
        {
            return Diffusion.Thresholding.Parse(Thresholding);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new ArgumentException($"{stage}: {e.Message}");
        }
    }

    public DdimScheduler Scheduler(NoiseSchedule schedule) => new(schedule, Respacing.Evenly(Steps, schedule.Length), Eta);
}
