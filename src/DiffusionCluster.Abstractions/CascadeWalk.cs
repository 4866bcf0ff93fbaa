namespace DiffusionCluster.Abstractions;

/// One request's way through the cascade's stages: each stage's input from the request and what the stages before
/// it produced. The text stage feeds every later stage; the first image stage draws from the image embedding (the
/// prior's, or the source image's) and runs the request's image operation; each later image stage refines the
/// image before it.
public sealed class CascadeWalk(GenerationSpec spec, Guid requestId, IReadOnlyList<StageDescriptor> stages)
{
    TextFeatures? _text;
    WireTensor? _embedding, _image;
    string? _caption;

    public IReadOnlyList<StageDescriptor> Stages => stages;

    /// A text diff's source caption features, encoded by the text stage beside the prompt.
    public TextFeatures? SourceText { get; set; }

    public StageInput Input(StageDescriptor stage)
    {
        var input = new StageInput
        {
            RequestId = requestId,
            Stage = stage.Stage,
            Seed = spec.Seed,
            IgnoreUnknownWords = spec.IgnoreUnknownWords,
            Previews = spec.Previews && stage.Kind == StageKind.Image,
            EncodePng = stage == stages[^1],
            PngParameters = stage == stages[^1] ? Parameters() : null,
        };
        return stage.Kind switch
        {
            StageKind.Text => input with { Prompt = spec.Prompt, SourceImage = spec.SceneSource },
            StageKind.Prior => input with { Text = _text, Sampling = spec.SamplingFor(stage.Stage) },
            _ when _image is null => input with
            {
                Text = _text, Sampling = spec.SamplingFor(stage.Stage), ImageEmbedding = _embedding, Operation = spec.Operation, SourceText = SourceText,
            },
            _ => input with { Text = _text, Sampling = spec.SamplingFor(stage.Stage), LowRes = _image },
        };
    }

    /// What made the image, as one JSON object for the PNG's "parameters" text chunk.
    string Parameters() => System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["prompt"] = spec.Prompt,
        ["revised_prompt"] = _caption,
        ["seed"] = spec.Seed,
        ["size"] = spec.Size,
        ["operation"] = spec.Operation?.Name,
        ["sampling"] = stages.Where(s => s.Kind != StageKind.Text).ToDictionary(s => s.Stage.Name(), s => spec.SamplingFor(s.Stage)),
    }, ParameterJson);

    static readonly System.Text.Json.JsonSerializerOptions ParameterJson = new()
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
    };

    /// What a stage produced: text features (and the caption drawn) from the text stage, an embedding from the prior,
    /// an image otherwise.
    public void Record(StageDescriptor stage, TextFeatures? text, WireTensor? tensor, string? caption = null)
    {
        switch (stage.Kind)
        {
            case StageKind.Text: _text = text; _caption = caption; break;
            case StageKind.Prior: _embedding = tensor; break;
            default: _image = tensor; break;
        }
    }
}
