using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages.Executors;

/// Composes each prompt's caption (the model's vocabulary, the request's seed) and encodes the batch at once.
public sealed class TextExecutor(CascadePipeline cascade) : IBatchExecutor
{
    PromptEncoder Encoder => cascade.Text;

    public void Load() => _ = Encoder;

    public void Validate(StageInput input) => Compose(input);

    public int? Steps(StageInput input) => null;

    public IReadOnlyList<BatchRowOutput> Run(IReadOnlyList<StageInput> batch, StepProgress progress, CancellationToken cancellation)
    {
        using var scope = NewDisposeScope();
        var captions = batch.Select(Compose).ToList();
        var text = Encoder.Encode(captions.Select(c => c.Caption).ToList());
        return Enumerable.Range(0, batch.Count).Select(i => new BatchRowOutput(
            Text: WireTensors.TextRow(text, i), Caption: new ComposedCaption(captions[i].Caption, captions[i].IgnoredWords))).ToList();
    }

    /// The model's prompt vocabulary (null for a model without a composer).
    public PromptVocabulary? Vocabulary() => Encoder.Composer is { World: var world }
        ? new PromptVocabulary(Shapes.PromptReader.Vocabulary(world), world.MaxObjects, world.RepeatedColours)
        : null;

    /// The caption for a text request; unknown words leave as the wire's exception, so every caller can tell them apart.
    ComposedPrompt Compose(StageInput input)
    {
        try
        {
            return Encoder.Compose(input.Prompt ?? "", input.Seed, input.IgnoreUnknownWords);
        }
        catch (Shapes.UnknownWordsException e)
        {
            throw new UnknownPromptWordsException(e.Message, e.Words);
        }
    }
}
