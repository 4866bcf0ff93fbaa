namespace DiffusionCluster.Abstractions;

/// Where and how one stage ran for a request: the silo, its device, the batch it shared, the time it
/// waited in the stage's queue and the time the batch computed. Attempt counts retries after a silo failure.
/// RouteMilliseconds: the time the request grain took to choose the host it ran on.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.StageRun")]
public sealed record StageRun(
    [property: Id(0)] CascadeStage Stage,
    [property: Id(1)] string Silo,
    [property: Id(2)] string Device,
    [property: Id(3)] int BatchSize,
    [property: Id(4)] double QueueMilliseconds,
    [property: Id(5)] double ComputeMilliseconds,
    [property: Id(6)] int Attempt = 1,
    [property: Id(7)] string Model = "",
    /// The denoising steps the stage ran (its request's or its model's default); 0 for the text encoder.
    [property: Id(8)] int Steps = 0,
    [property: Id(9)] double RouteMilliseconds = 0);

/// A finished generation: the PNG, how each stage ran, and the caption the image was drawn from (null for an
/// uncaptioned image operation).
[GenerateSerializer, Immutable, Alias("DiffusionCluster.GenerationResult")]
public sealed record GenerationResult(
    [property: Id(0)] Guid RequestId,
    [property: Id(1)] int Size,
    [property: Id(2)] byte[] Png,
    [property: Id(3)] IReadOnlyList<StageRun> Stages,
    [property: Id(4)] double TotalMilliseconds,
    [property: Id(5)] ComposedCaption? Caption = null);
