using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Jobs;

/// The text encoder workers the edge asks before a request runs (a prompt check, the vocabulary). One router for the
/// gateway, reusing a round of silo descriptions for a second: a burst of submissions costs one round a second, not a
/// call to every silo per submission.
public sealed class TextWorkers(IGrainFactory grains)
{
    readonly StageRouter _router = new(grains, reuseFor: TimeSpan.FromSeconds(1));

    /// Throws ArgumentException (UnknownPromptWordsException for unknown words) for a prompt the model cannot draw.
    public async Task CheckPrompt(GenerationSpec spec) =>
        await (await _router.LeastLoadedWorker(CascadeStage.Text)).CheckPrompt(spec.Prompt, spec.Seed, spec.IgnoreUnknownWords);

    public async Task<PromptVocabulary?> Vocabulary() => await (await _router.LeastLoadedWorker(CascadeStage.Text)).GetVocabulary();
}
