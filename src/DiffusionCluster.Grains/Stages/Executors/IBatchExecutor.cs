using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;

namespace DiffusionCluster.Grains.Stages.Executors;

/// Runs one kind of work (encode prompts, sample embeddings, sample images, an image operation, segmentation)
/// for a batch of requests that share a batch key. StageExecutor picks one per request.
public interface IBatchExecutor
{
    /// Loads the networks now, so the first request does not pay for it.
    void Load();

    /// The checks of this kind of work, before a request joins a batch, so a bad request fails alone.
    void Validate(StageInput input);

    /// The denoising steps a request runs: its own or the model folder's default; null where nothing is sampled.
    int? Steps(StageInput input);

    IReadOnlyList<BatchRowOutput> Run(IReadOnlyList<StageInput> batch, StepProgress progress, CancellationToken cancellation);
}

/// One request's share of a batch's output.
public sealed record BatchRowOutput(TextFeatures? Text = null, WireTensor? Tensor = null, ComposedCaption? Caption = null)
{
    /// A batch tensor's rows, one output per request.
    public static IReadOnlyList<BatchRowOutput> Rows(TorchSharp.torch.Tensor batch, int count) =>
        Enumerable.Range(0, count).Select(i => new BatchRowOutput(Tensor: WireTensors.FromRow(batch, i))).ToList();
}
