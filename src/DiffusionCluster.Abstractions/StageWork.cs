namespace DiffusionCluster.Abstractions;

/// One request's input to one stage. Which fields are set depends on the stage's kind: a text stage takes the
/// prompt; the prior the text features; the first image stage the text features and image embedding (and the
/// request's image operation); later image stages the text features and the image before them.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.StageInput")]
public sealed record StageInput
{
    [Id(0)] public required Guid RequestId { get; init; }
    [Id(1)] public required CascadeStage Stage { get; init; }
    [Id(2)] public string? Prompt { get; init; }
    [Id(3)] public TextFeatures? Text { get; init; }
    [Id(4)] public WireTensor? ImageEmbedding { get; init; }
    [Id(5)] public WireTensor? LowRes { get; init; }
    [Id(6)] public ulong Seed { get; init; }
    [Id(7)] public SamplingOptions? Sampling { get; init; }
    /// The first image stage only: the request's image operation.
    [Id(8)] public ImageOperation? Operation { get; init; }
    /// Text diffs only: the source caption's features.
    [Id(9)] public TextFeatures? SourceText { get; init; }
    /// Text encoder only: draw the prompt without the words the model does not know instead of refusing it.
    [Id(10)] public bool IgnoreUnknownWords { get; init; }
    /// The request's last stage: the worker returns the image as PNG bytes (the request grain and the edge need no
    /// tensor library).
    [Id(11)] public bool EncodePng { get; init; }
    /// With EncodePng: what made the image (prompt, the caption drawn, seed, size, operation, sampling), written into the
    /// PNG as a text chunk named "parameters".
    [Id(12)] public string? PngParameters { get; init; }
    /// Image stages: report a preview of each reported step's estimate with the step (GenerationSpec.Previews).
    [Id(13)] public bool Previews { get; init; }
    /// Text stage: the operation's source image, read for what the prompt leaves unsaid, or captioned when the request
    /// has no prompt (ImageOperation.ReadsSourceScene).
    [Id(14)] public WireTensor? SourceImage { get; init; }

    public long PayloadBytes =>
        Bytes(Text) + Bytes(SourceText) + (ImageEmbedding?.Bytes ?? 0) + (LowRes?.Bytes ?? 0) + 2L * (Prompt?.Length ?? 0) + (Operation?.Bytes ?? 0)
        + 2L * (PngParameters?.Length ?? 0) + (SourceImage?.Bytes ?? 0);

    static long Bytes(TextFeatures? text) => text is null ? 0 : text.Tokens.Bytes + text.Mask.Bytes + text.Pooled.Bytes + (text.Ids?.Bytes ?? 0);
}

/// One request's output of one stage: text features and the caption they encode (text encoder), a tensor
/// (embedding or image), or, from a request's last stage, the image as PNG.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.StageOutput")]
public sealed record StageOutput(
    [property: Id(0)] StageRun Run,
    [property: Id(1)] TextFeatures? Text = null,
    [property: Id(2)] WireTensor? Tensor = null,
    [property: Id(3)] ComposedCaption? Caption = null,
    [property: Id(4)] byte[]? Png = null);

/// The caption the text encoder read for a prompt (a model with a composer names the whole scene, drawn from the
/// request's seed) and the prompt's words it ignored because the model does not know them.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.ComposedCaption")]
public sealed record ComposedCaption(
    [property: Id(0)] string Caption,
    [property: Id(1)] IReadOnlyList<string> IgnoredWords);

/// What a silo hosts and how busy each of its stages is (Load: queued plus running requests). SecondsPerRequest: each
/// hosted stage's compute time per request as measured here (absent before anything ran). Ahead: the requests
/// running on this silo, counted at each stage they have not yet passed. QueueLimits: each hosted stage's
/// MaxQueueLength. Degraded: what on the silo works at
/// reduced strength (request storage failing), for readiness. Model: the model folder's name ("shapes-cascade"), and
/// ModelCreated when its model_index.json was written (Unix seconds), for /v1/models.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.SiloDescription")]
public sealed record SiloDescription(
    [property: Id(0)] string Silo,
    [property: Id(1)] string Device,
    [property: Id(2)] IReadOnlyDictionary<CascadeStage, int> Load,
    [property: Id(4)] string? Degraded = null,
    [property: Id(5)] IReadOnlyDictionary<CascadeStage, double>? SecondsPerRequest = null,
    [property: Id(6)] IReadOnlyDictionary<CascadeStage, int>? Ahead = null,
    [property: Id(7)] IReadOnlyDictionary<CascadeStage, int>? QueueLimits = null,
    [property: Id(8)] string? Model = null,
    [property: Id(9)] long ModelCreated = 0);
