using Orleans.Concurrency;

namespace DiffusionCluster.Abstractions;

/// Runs one stage on one silo. Keyed "{stage}@{silo address}" and placed on exactly that silo; it activates
/// only if that silo declared the stage.
[Alias("DiffusionCluster.IStageWorkerGrain")]
public interface IStageWorkerGrain : IGrainWithStringKey
{
    /// Runs the input in the silo's batcher for its stage. While its batch runs, the steps reached are reported to the
    /// request grain (IGenerationGrain.ReportStep, keyed by input.RequestId), at most four times a second and at
    /// the last step: messages in proportion to the work done, however many clients watch or wait.
    [Alias("Run"), ResponseTimeout("01:00:00")]
    Task<StageOutput> Run(StageInput input, CancellationToken cancellation = default);

    /// Text encoder workers only: the words their model's composer reads, or null for a model that reads prompts as
    /// they are written.
    [Alias("GetVocabulary"), AlwaysInterleave]
    Task<PromptVocabulary?> GetVocabulary();

    /// Text encoder workers only: throws ArgumentException (UnknownPromptWordsException for unknown words) for a prompt
    /// the model cannot draw, so an edge that answers before the work runs (a job's 202) can refuse it first.
    [Alias("CheckPrompt"), AlwaysInterleave]
    Task CheckPrompt(string prompt, ulong seed, bool ignoreUnknownWords);
}

/// The words a model's prompt reader knows, by role (sizes, shapes, places, ...), and the limits of its world.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.PromptVocabulary")]
public sealed record PromptVocabulary(
    [property: Id(0)] IReadOnlyDictionary<string, IReadOnlyList<string>> Words,
    [property: Id(1)] int MaxObjects,
    [property: Id(2)] bool RepeatedColours);

/// One per silo, keyed by the silo address: what the silo hosts and how loaded each stage is.
[Alias("DiffusionCluster.ISiloStagesGrain")]
public interface ISiloStagesGrain : IGrainWithStringKey
{
    [Alias("Describe")]
    Task<SiloDescription> Describe();
}

/// The active silos as the silo that answers sees them (its in-memory membership view), so a client of the cluster
/// (a gateway) routes without reading the membership table, which a database outage makes fail.
[Alias("DiffusionCluster.IClusterViewGrain")]
public interface IClusterViewGrain : IGrainWithIntegerKey
{
    [Alias("ActiveSilos")]
    Task<List<SiloAddress>> ActiveSilos();
}
