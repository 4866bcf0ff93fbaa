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

/// What a request is doing now: readable while it runs and, once it has ended, for the cluster's result retention.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.GenerationProgress")]
public sealed record GenerationProgress(
    [property: Id(0)] GenerationState State,
    [property: Id(1)] CascadeStage? Stage = null,
    [property: Id(2)] int Step = 0,
    [property: Id(3)] int TotalSteps = 0,
    [property: Id(4)] string? Error = null,
    /// The stages the request runs, in order; null until the request grain has started it.
    [property: Id(5)] IReadOnlyList<CascadeStage>? Stages = null,
    /// Who started it (see IGenerationGrain.Start); null when this id holds no request (never started, or expired).
    [property: Id(6)] string? Owner = null,
    /// How each stage ran and the caption drawn from, once completed (the PNG itself comes from Wait).
    [property: Id(7)] IReadOnlyList<StageRun>? Runs = null,
    [property: Id(8)] ComposedCaption? Caption = null,
    /// Times the request was started: more than one when it resumed after losing its silo.
    [property: Id(9)] int Starts = 0,
    /// Counts the changes an activation of the request grain has published (WatchProgress); a new activation starts again.
    [property: Id(10)] long Version = 0,
    /// A job admission queued (IGenerationGrain.Queue): when it may expect to start, then when it started.
    [property: Id(11)] DateTimeOffset? StartAfter = null,
    /// A request that asked for previews (GenerationSpec.Previews), while it runs: a PNG of the latest reported
    /// step's estimate of its image (at most 256 px a side).
    [property: Id(12)] byte[]? Preview = null)
{
    public bool Exists => Owner is not null;
    public bool Ended => State is GenerationState.Completed or GenerationState.Failed or GenerationState.Cancelled;
}
