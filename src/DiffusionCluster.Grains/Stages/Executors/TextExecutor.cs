using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages.Executors;

/// Composes each prompt's caption (the model's vocabulary, the request's seed; what the prompt leaves unsaid read from
/// an operation's source image, where it has one), or an uncaptioned source image's own caption (ImageCaptioner), and
/// encodes the batch at once.
public sealed class TextExecutor(CascadePipeline cascade) : IBatchExecutor
{
    PromptEncoder Encoder => cascade.Text;

    public void Load() => _ = Encoder;

    public void Validate(StageInput input)
    {
        if (!CaptionsImage(input)) Compose(input, reference: null);
    }

    public int? Steps(StageInput input) => null;

    public IReadOnlyList<BatchRowOutput> Run(IReadOnlyList<StageInput> batch, StepProgress progress, CancellationToken cancellation)
    {
        using var scope = NewDisposeScope();
        var captions = batch.Select(Caption).ToList();
        var captioned = Enumerable.Range(0, batch.Count).Where(i => captions[i] is not null).ToList();
        using var text = captioned.Count == 0 ? null : Encoder.Encode(captioned.Select(i => captions[i]!.Caption).ToList());
        // A source image the captioner finds nothing in (or a model without one) leaves its request uncaptioned.
        return Enumerable.Range(0, batch.Count).Select(i => captions[i] is { } c
            ? new BatchRowOutput(Text: WireTensors.TextRow(text!, captioned.IndexOf(i)), Caption: new ComposedCaption(c.Caption, c.IgnoredWords))
            : new BatchRowOutput()).ToList();
    }

    /// The model's prompt vocabulary (null for a model without a composer).
    public PromptVocabulary? Vocabulary() => Encoder.Composer is { World: var world }
        ? new PromptVocabulary(Shapes.PromptReader.Vocabulary(world), world.MaxObjects, world.RepeatedColours)
        : null;

    /// No prompt to compose: the source image's own caption stands in for it.
    static bool CaptionsImage(StageInput input) => string.IsNullOrWhiteSpace(input.Prompt) && input.SourceImage is not null;

    ComposedPrompt? Caption(StageInput input)
    {
        Shapes.Scene? reference = null;
        if (input.SourceImage is { } source && Encoder.ImageCaptioner is { } captioner)
        {
            using var image = source.ToTensor(CPU);
            reference = captioner.Read(image);
        }
        if (!CaptionsImage(input)) return Compose(input, reference);
        return reference is null ? null : new ComposedPrompt(Shapes.Captioner.Canonical(reference), []);
    }

    /// The caption for a text request; unknown words leave as the wire's exception, so every caller can tell them apart.
    ComposedPrompt Compose(StageInput input, Shapes.Scene? reference)
    {
        try
        {
            return Encoder.Compose(input.Prompt ?? "", input.Seed, input.IgnoreUnknownWords, reference);
        }
        catch (Shapes.UnknownWordsException e)
        {
            throw new UnknownPromptWordsException(e.Message, e.Words);
        }
    }
}
