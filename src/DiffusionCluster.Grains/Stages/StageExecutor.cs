using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages;

/// Runs one cascade stage for a batch of requests on this silo's device. The stage's model loads once, on
/// first use, and is shared by every request; other stages' weights are never read.
public sealed class StageExecutor
{
    // The cascade loads each stage lazily: this executor only ever touches its own stage (and, for decoder64,
    // the CLIP image encoder that image operations need).
    readonly CascadePipeline _cascade;
    readonly ImageOperations _operations;
    readonly Lazy<AttributeDirections> _directions;
    readonly Lazy<Segmenter> _segmenter;

    public StageExecutor(CascadeStage stage, string modelFolder, Device device, ScalarType dtype = ScalarType.Float32)
    {
        Stage = stage;
        Device = device;
        _cascade = new CascadePipeline(modelFolder, device, dtype);
        _operations = new ImageOperations(_cascade);
        _directions = new(() => AttributeDirections.Load(modelFolder));
        _segmenter = new(() => Segmenter.Load(modelFolder, _cascade));
    }

    PromptEncoder Text => _cascade.Text;
    PriorSampler Prior => _cascade.Prior;
    ImageSampler Image => Stage switch
    {
        CascadeStage.Decoder64 => _cascade.Decoder,
        CascadeStage.Sr256 => _cascade.Sr256,
        CascadeStage.Sr1024 => _cascade.Sr1024,
        _ => throw new InvalidOperationException($"stage {Stage.Name()} has no U-Net"),
    };

    public CascadeStage Stage { get; }
    public Device Device { get; }

    /// The model folder component a stage reads.
    public static string Component(CascadeStage stage) => stage switch
    {
        CascadeStage.TextEncoder => CascadeFolder.TextEncoder,
        CascadeStage.Prior => CascadeFolder.Prior,
        CascadeStage.Decoder64 => CascadeFolder.Decoder64,
        CascadeStage.Sr256 => CascadeFolder.Sr256,
        CascadeStage.Sr1024 => CascadeFolder.Sr1024,
        _ => throw new ArgumentOutOfRangeException(nameof(stage)),
    };

    /// Loads the model now (a silo warms its stages at start-up, so the first request does not pay for it).
    public void Load()
    {
        _ = Stage switch
        {
            CascadeStage.TextEncoder => (object)Text,
            CascadeStage.Prior => Prior,
            _ => Image,
        };
    }

    /// The text encoder's prompt vocabulary (null for a model without a composer).
    public PromptVocabulary? Vocabulary()
    {
        if (Stage != CascadeStage.TextEncoder) throw new InvalidOperationException($"stage {Stage.Name()} reads no prompts; ask a text worker");
        return Text.Composer is { World: var world }
            ? new PromptVocabulary(Shapes.PromptReader.Vocabulary(world), world.MaxObjects, world.RepeatedColours)
            : null;
    }

    /// Checks one request against this stage before it joins a batch, so a bad request fails alone.
    public void Validate(StageInput input)
    {
        if (input.Stage != Stage) throw new ArgumentException($"input for stage {input.Stage.Name()} sent to stage {Stage.Name()}");
        if (input.Edit is not null && Stage != CascadeStage.Decoder64) throw new ArgumentException($"{Stage.Name()}: image operations run on decoder64");
        if (Stage == CascadeStage.TextEncoder)
        {
            Compose(input);
            return;
        }
        // Text is optional for an uncaptioned image operation and the SR stages after it; the prior needs it.
        bool textOptional = Stage is CascadeStage.Sr256 or CascadeStage.Sr1024 || input.Edit is { PromptOptional: true };
        if (input.Text is null && !textOptional)
            throw new ArgumentException($"{Stage.Name()}: the request carries no text features");
        var sampling = Sampling(input);
        if (Stage == CascadeStage.Prior)
        {
            Prior.Validate(sampling);
            return;
        }
        Image.Validate(sampling);
        if (Stage == CascadeStage.Decoder64 && input.ImageEmbedding is null && input.Edit is not { UsesSourceEmbedding: true })
            throw new ArgumentException("decoder64: the request carries no image embedding");
        if (input.Edit is { } edit) edit.Validate(64);
        if (input.Edit is { Kind: ImageEditKind.Attribute, AttributeName: { } attribute }) _ = _directions.Value[attribute];
        if (input.Edit is { Kind: ImageEditKind.Segment }) _ = _segmenter.Value;
        if (input.Edit is { Kind: ImageEditKind.TextDiff } && input.SourceText is null) throw new ArgumentException("decoder64: a text diff carries no source caption features");
        if (Stage is CascadeStage.Sr256 or CascadeStage.Sr1024 && input.LowRes is null)
            throw new ArgumentException($"{Stage.Name()}: the request carries no low-resolution image");
    }

    /// The denoising steps a request runs here: its own or the model folder's default; null for the text encoder.
    public int? Steps(StageInput input) => Stage switch
    {
        CascadeStage.TextEncoder => null,
        CascadeStage.Prior => input.Sampling?.Steps ?? Prior.Defaults.Steps,
        _ => input.Sampling?.Steps ?? Image.Defaults.Steps,
    };

    /// Requests batch together only when they sample the same way (same steps, guidance, thresholding, ...)
    /// and, for image operations, the same operation with the same settings. Operations whose sampling draws
    /// noise inside the loop (ILVR, inpainting) or encode by inversion run alone, so each request's result
    /// depends only on its own seed.
    public static string BatchKey(StageInput input)
    {
        var key = $"{input.Sampling}|text={input.Text is not null}";
        return input.Edit switch
        {
            null => key,
            { Kind: ImageEditKind.Variation } => $"{key}|variation",
            { Kind: ImageEditKind.SdEdit } e => $"{key}|sdedit:{e.Strength}",
            { Kind: ImageEditKind.Segment } => $"{key}|segment",
            _ => $"{key}|{input.Edit.Kind}|{input.RequestId}",
        };
    }

    public IReadOnlyList<BatchRowOutput> Run(IReadOnlyList<StageInput> batch, Action<int, int> progress, CancellationToken cancellation)
    {
        Load();
        if (Stage == CascadeStage.Decoder64 && batch[0].Edit is not null) _operations.Load();
        using var scope = NewDisposeScope();
        if (Stage == CascadeStage.TextEncoder)
        {
            var captions = batch.Select(Compose).ToList();
            var text = Text.Encode(captions.Select(c => c.Caption).ToList());
            return Enumerable.Range(0, batch.Count).Select(i => new BatchRowOutput(
                Text: WireTensors.TextRow(text, i), Caption: new ComposedCaption(captions[i].Caption, captions[i].IgnoredWords))).ToList();
        }
        var features = batch[0].Text is null ? null : WireTensors.StackText(batch.Select(b => b.Text!), Device);
        var seeds = batch.Select(b => b.Seed).ToList();
        var sampling = Sampling(batch[0]);
        Tensor result = Stage switch
        {
            CascadeStage.Prior => Prior.Sample(features!, seeds, sampling, progress, cancellation),
            CascadeStage.Decoder64 when batch[0].Edit is not null => ImageEdits.Run(_operations, () => _directions.Value, () => _segmenter.Value, batch, features, sampling, progress, cancellation),
            CascadeStage.Decoder64 => Image.Sample(features, WireTensors.Stack(batch.Select(b => b.ImageEmbedding!), Device), null, seeds, sampling, progress, cancellation),
            _ => Image.Sample(features, null, WireTensors.Stack(batch.Select(b => b.LowRes!), Device), seeds, sampling, progress, cancellation,
                new DecodeOptions { WithoutText = features is null }),
        };
        return Enumerable.Range(0, batch.Count).Select(i => new BatchRowOutput(Tensor: WireTensors.FromRow(result, i))).ToList();
    }

    /// The caption for a text request; unknown words leave as the wire's exception, so every caller can tell them apart.
    ComposedPrompt Compose(StageInput input)
    {
        try
        {
            return Text.Compose(input.Prompt ?? "", input.Seed, input.IgnoreUnknownWords);
        }
        catch (Shapes.UnknownWordsException e)
        {
            throw new UnknownPromptWordsException(e.Message, e.Words);
        }
    }

    static SamplingOptions Sampling(StageInput input) =>
        input.Sampling ?? throw new ArgumentException($"{input.Stage.Name()}: the request carries no sampling options");
}

/// One request's share of a batch's output.
public sealed record BatchRowOutput(TextFeatures? Text = null, WireTensor? Tensor = null, ComposedCaption? Caption = null);
