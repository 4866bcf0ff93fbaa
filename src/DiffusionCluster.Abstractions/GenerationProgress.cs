namespace DiffusionCluster.Abstractions;

[GenerateSerializer, Alias("DiffusionCluster.GenerationState")]
public enum GenerationState
{
    NotStarted,
    Running,
    Completed,
    Failed,
    Cancelled,
}

/// What a request is doing now: readable while it runs.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.GenerationProgress")]
public sealed record GenerationProgress(
    [property: Id(0)] GenerationState State,
    [property: Id(1)] CascadeStage? Stage = null,
    [property: Id(2)] int Step = 0,
    [property: Id(3)] int TotalSteps = 0,
    [property: Id(4)] string? Error = null,
    /// The stages the request runs, in order; null until the request grain has started it.
    [property: Id(5)] IReadOnlyList<CascadeStage>? Stages = null);
