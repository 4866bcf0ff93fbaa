namespace DiffusionCluster.Abstractions;

/// How one diffusion stage samples (mirrors the in-process StageSampling): steps, guidance weight,
/// thresholding ("none", "static", "dynamic[:p[:cap]]"), DDIM eta and, for super-resolution, the
/// noise-augmentation level of its input, and for the base decoder the layout share (0 to 1; 0: off; null: the model
/// folder's default, on when it has a layout model).
[GenerateSerializer, Immutable, Alias("DiffusionCluster.SamplingSpec")]
public sealed record SamplingSpec(
    [property: Id(0)] int Steps,
    [property: Id(1)] double Guidance,
    [property: Id(2)] string Thresholding = "none",
    [property: Id(3)] double Eta = 0,
    [property: Id(4)] int AugmentationLevel = 0,
    [property: Id(5)] double? Layout = null)
{
    public const int MaxSteps = 1000;
    public const double MaxGuidance = 50;
    public const int MaxAugmentationLevel = 999;

    public static SamplingSpec PriorDefault { get; } = new(25, 4.0);
    public static SamplingSpec DecoderDefault { get; } = new(25, 2.0, "dynamic:0.95:1.5");
    public static SamplingSpec Sr256Default { get; } = new(2, 1.0, "static", AugmentationLevel: 0);
    public static SamplingSpec Sr1024Default { get; } = new(2, 1.0, "static", AugmentationLevel: 0);

    /// Range checks that need no model; the stage checks its own schedule length and the thresholding text again.
    public void Validate(string stage)
    {
        if (Steps < 1 || Steps > MaxSteps) throw new ArgumentException($"{stage}: steps = {Steps}; allowed 1 to {MaxSteps}");
        if (!(Guidance >= 0 && Guidance <= MaxGuidance)) throw new ArgumentException($"{stage}: guidance = {Guidance}; allowed 0 to {MaxGuidance}");
        if (!(Eta >= 0 && Eta <= 1)) throw new ArgumentException($"{stage}: eta = {Eta}; allowed 0 to 1");
        if (Layout is { } layout && !(layout >= 0 && layout <= 1)) throw new ArgumentException($"{stage}: layout = {Layout}; allowed 0 to 1");
        if (AugmentationLevel < 0 || AugmentationLevel > MaxAugmentationLevel)
            throw new ArgumentException($"{stage}: augmentation level = {AugmentationLevel}; allowed 0 to {MaxAugmentationLevel}");
        if (string.IsNullOrWhiteSpace(Thresholding) || Thresholding.Length > 64)
            throw new ArgumentException($"{stage}: thresholding \"{Thresholding}\" is not none, static or dynamic[:p[:cap]]");
    }
}
