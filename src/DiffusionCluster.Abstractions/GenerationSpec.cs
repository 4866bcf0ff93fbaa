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
    /// Each stage's sampling options; unset fields take the model folder's defaults (its sampling.json).
    [Id(3)] public SamplingOptions Prior { get; init; } = SamplingOptions.Default;
    [Id(4)] public SamplingOptions Decoder64 { get; init; } = SamplingOptions.Default;
    [Id(5)] public SamplingOptions Sr256 { get; init; } = SamplingOptions.Default;
    [Id(6)] public SamplingOptions Sr1024 { get; init; } = SamplingOptions.Default;
    /// Wall-clock budget for the whole request, counted from when the request grain starts it.
    [Id(7)] public double DeadlineSeconds { get; init; } = 600;
    /// An image operation (variation, SDEdit, inpainting, ...); null for plain text-to-image.
    [Id(8)] public ImageOperation? Operation { get; init; }
    /// Draw the prompt without the words the model does not know (the result lists them) instead of refusing it.
    [Id(9)] public bool IgnoreUnknownWords { get; init; }

    public bool HasPrompt => !string.IsNullOrWhiteSpace(Prompt);

    /// The stages of the cascade this request runs: up to its size, without the text stage for an uncaptioned
    /// operation, without the prior when the image embedding comes from the source image.
    public IReadOnlyList<StageDescriptor> StagesIn(CascadeDefinition cascade) => cascade.For(Size)
        .Where(s => s.Kind != StageKind.Text || HasPrompt)
        .Where(s => s.Kind != StageKind.Prior || Operation is not { UsesSourceEmbedding: true })
        .ToList();

    public SamplingOptions SamplingFor(CascadeStage stage) => stage switch
    {
        CascadeStage.Prior => Prior,
        CascadeStage.Decoder64 => Decoder64,
        CascadeStage.Sr256 => Sr256,
        CascadeStage.Sr1024 => Sr1024,
        _ => throw new ArgumentException($"stage {stage.Name()} does not sample"),
    };

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
        foreach (var stage in CascadeStages.All.Where(s => s != CascadeStage.Text))
            SamplingFor(stage).Validate(stage.Name());
    }
}
