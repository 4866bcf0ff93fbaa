namespace DiffusionCluster.Training.Loop;

public sealed record TrainingOptions
{
    public required string CheckpointFolder { get; init; }
    public string? ModelFolder { get; init; }
    public long Steps { get; init; } = 1000;
    public int BatchSize { get; init; } = 16;
    public double LearningRate { get; init; } = 3e-4;
    public int WarmupSteps { get; init; } = 200;
    public double EmaDecay { get; init; } = 0.999;
    public double MaxGradientNorm { get; init; } = 1.0;
    public int CheckpointEvery { get; init; } = 250;
    public int LogEvery { get; init; } = 10;
    public ulong Seed { get; init; } = 1;
    /// Stop (with a checkpoint) once this much wall time has passed in this run; resume continues from there.
    public TimeSpan? TimeLimit { get; init; }
    /// A first run (no checkpoint yet) starts from these weights (WarmStart) instead of a fresh initialisation.
    public string? InitFrom { get; init; }
}
