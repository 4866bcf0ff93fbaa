namespace DiffusionCluster.Abstractions;

/// One text-to-image request as it travels through the cluster.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.GenerationSpec")]
public sealed record GenerationSpec
{
    /// The sizes the edge accepts; the cascade that runs a request checks the size against its own stages too.
    public static readonly int[] Sizes = [64, 256, 1024];
    public const int MaxPromptCharacters = 1000;
    public const double MaxDeadlineSeconds = 3600;
    /// libtorch's CPU generator (a Mersenne Twister) keeps only the low 32 bits of a seed, so a larger seed would
    /// silently draw the same noise, and give the same image, as a smaller one.
    public const ulong MaxSeed = uint.MaxValue;

    [Id(0)] public required string Prompt { get; init; }
    [Id(1)] public int Size { get; init; } = 64;
    [Id(2)] public ulong Seed { get; init; }
    /// Each sampled stage's options; unset fields and unlisted stages take the model folder's defaults (its
    /// sampling.json).
    [Id(3)] public SamplingByStage Sampling { get; init; } = SamplingByStage.Default;
    /// The bundled cascade's stages' options by name, for initialisers; they read and write Sampling.
    public SamplingOptions Prior { get => Sampling[CascadeStage.Prior]; init => Sampling = Sampling.With(CascadeStage.Prior, value); }
    public SamplingOptions Decoder64 { get => Sampling[CascadeStage.Decoder64]; init => Sampling = Sampling.With(CascadeStage.Decoder64, value); }
    public SamplingOptions Sr256 { get => Sampling[CascadeStage.Sr256]; init => Sampling = Sampling.With(CascadeStage.Sr256, value); }
    public SamplingOptions Sr1024 { get => Sampling[CascadeStage.Sr1024]; init => Sampling = Sampling.With(CascadeStage.Sr1024, value); }
    /// Wall-clock budget for the whole request, counted from when the request grain starts it.
    [Id(7)] public double DeadlineSeconds { get; init; } = 600;
    /// An image operation (variation, SDEdit, inpainting, ...); null for plain text-to-image.
    [Id(8)] public ImageOperation? Operation { get; init; }
    /// Draw the prompt without the words the model does not know (the result lists them) instead of refusing it.
    [Id(9)] public bool IgnoreUnknownWords { get; init; }
    /// While an image stage denoises, its request's progress carries a small PNG of the step's estimate of the image
    /// (GenerationProgress.Preview), for live previews.
    [Id(10)] public bool Previews { get; init; }

    public bool HasPrompt => !string.IsNullOrWhiteSpace(Prompt);

    /// The image the text stage reads for what the prompt leaves unsaid (ImageOperation.ReadsSourceScene), if any.
    public WireTensor? SceneSource => Operation is { ReadsSourceScene: true } operation ? operation.Image : null;

    /// An uncaptioned operation whose text stage captions the source image.
    public bool CaptionsSource => !HasPrompt && SceneSource is not null;

    /// The stages of the cascade this request runs: up to its size, without the text stage for an uncaptioned
    /// operation (unless it captions its source image), without the prior when the image embedding comes from the
    /// source image.
    public IReadOnlyList<StageDescriptor> StagesIn(CascadeDefinition cascade) => cascade.For(Size)
        .Where(s => s.Kind != StageKind.Text || HasPrompt || CaptionsSource)
        .Where(s => s.Kind != StageKind.Prior || Operation is not { UsesSourceEmbedding: true })
        .ToList();

    public SamplingOptions SamplingFor(CascadeStage stage) => Sampling[stage];

    /// Every check that needs no model, so a bad request fails at the edge before any stage runs. Token length
    /// is checked by the text encoder stage, which runs first and costs milliseconds.
    public void Validate()
    {
        if (!HasPrompt && Operation is not { PromptOptional: true }) throw new ArgumentException("prompt is empty");
        if (Prompt.Length > MaxPromptCharacters)
            throw new ArgumentException($"prompt is {Prompt.Length} characters; the limit is {MaxPromptCharacters}; shorten it");
        if (!Sizes.Contains(Size)) throw new ArgumentException($"size {Size} is not supported; choose {string.Join(", ", Sizes)}");
        if (Seed > MaxSeed)
            throw new ArgumentException($"seed {Seed} is above {MaxSeed}: the noise generator keeps 32 bits of a seed, so it would repeat seed {Seed & MaxSeed}");
        if (!(DeadlineSeconds > 0 && DeadlineSeconds <= MaxDeadlineSeconds))
            throw new ArgumentException($"deadline = {DeadlineSeconds} s; allowed above 0 up to {MaxDeadlineSeconds} s");
        Operation?.Validate(Size);
        foreach (var (stage, options) in Sampling.Listed)
            options.Validate(stage.Name());
    }
}
