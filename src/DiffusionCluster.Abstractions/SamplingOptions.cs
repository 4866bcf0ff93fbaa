namespace DiffusionCluster.Abstractions;

/// How one diffusion stage samples: steps, guidance weight, thresholding ("none", "static", "dynamic[:p[:cap]]"),
/// DDIM eta, the ODE solver ("ddim", or "dpm++2m": DPM-Solver++(2M), second order, deterministic), for super-resolution the noise-augmentation level of its input, and for the base decoder the layout
/// share (the fraction of the trajectory, from pure noise, held to the layout model's picture of the caption; 0: off).
/// A null field is unset: the model folder's default for that stage (its sampling.json), which is what was tuned
/// on its weights.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.SamplingOptions")]
public sealed record SamplingOptions(
    [property: Id(0)] int? Steps = null,
    [property: Id(1)] double? Guidance = null,
    [property: Id(2)] string? Thresholding = null,
    [property: Id(3)] double? Eta = null,
    [property: Id(4)] int? AugmentationLevel = null,
    [property: Id(5)] double? Layout = null,
    [property: Id(6)] string? Solver = null)
{
    public const int MaxSteps = 1000;
    public const double MaxGuidance = 50;
    public const int MaxAugmentationLevel = 999;
    public const string Ddim = "ddim", DpmSolver = "dpm++2m";
    public static readonly string[] Solvers = [Ddim, DpmSolver];

    /// Every field unset: the model's defaults.
    public static SamplingOptions Default { get; } = new();

    /// These options with every unset field taken from the defaults.
    public SamplingOptions Over(SamplingOptions defaults) => new(
        Steps ?? defaults.Steps, Guidance ?? defaults.Guidance, Thresholding ?? defaults.Thresholding,
        Eta ?? defaults.Eta, AugmentationLevel ?? defaults.AugmentationLevel, Layout ?? defaults.Layout, Solver ?? defaults.Solver);

    public bool IsComplete => Steps is not null && Guidance is not null && Thresholding is not null && Eta is not null
                              && AugmentationLevel is not null && Layout is not null && Solver is not null;

    /// Range checks on the set fields; trainTimesteps (the stage's schedule length, when known) bounds steps and the
    /// augmentation level. The thresholding text is parsed where it is used.
    public void Validate(string stage, int trainTimesteps = MaxSteps)
    {
        int maxSteps = Math.Min(MaxSteps, trainTimesteps), maxLevel = Math.Min(MaxAugmentationLevel, trainTimesteps - 1);
        if (Steps is { } steps && (steps < 1 || steps > maxSteps)) throw new ArgumentException($"{stage}: steps = {steps}; allowed 1 to {maxSteps}");
        if (Guidance is { } guidance && !(guidance >= 0 && guidance <= MaxGuidance)) throw new ArgumentException($"{stage}: guidance = {guidance}; allowed 0 to {MaxGuidance}");
        if (Eta is { } eta && !(eta >= 0 && eta <= 1)) throw new ArgumentException($"{stage}: eta = {eta}; allowed 0 to 1");
        if (Layout is { } layout && !(layout >= 0 && layout <= 1)) throw new ArgumentException($"{stage}: layout = {layout}; allowed 0 to 1");
        if (AugmentationLevel is { } level && (level < 0 || level > maxLevel))
            throw new ArgumentException($"{stage}: augmentation level = {level}; allowed 0 to {maxLevel}");
        if (Thresholding is { } thresholding && (string.IsNullOrWhiteSpace(thresholding) || thresholding.Length > 64))
            throw new ArgumentException($"{stage}: thresholding \"{thresholding}\" is not none, static or dynamic[:p[:cap]]");
        if (Solver is { } solver && !Solvers.Contains(solver))
            throw new ArgumentException($"{stage}: solver \"{solver}\" is not one of {string.Join(", ", Solvers)}");
        if (Solver == DpmSolver && Eta is > 0)
            throw new ArgumentException($"{stage}: eta = {Eta} needs solver {Ddim}; {DpmSolver} is deterministic (eta 0)");
    }
}
