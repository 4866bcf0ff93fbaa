using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages.Executors;

/// Samples image embeddings from the batch's text features.
public sealed class PriorExecutor(CascadePipeline cascade) : IBatchExecutor
{
    PriorSampler Prior => cascade.Prior;

    public void Load() => _ = Prior;

    public void Validate(StageInput input)
    {
        if (input.Text is null) throw new ArgumentException($"{input.Stage.Name()}: the request carries no text features");
        Prior.Validate(input.RequiredSampling());
    }

    public int? Steps(StageInput input) => input.Sampling?.Steps ?? Prior.Defaults.Steps;

    public IReadOnlyList<BatchRowOutput> Run(IReadOnlyList<StageInput> batch, StepProgress progress, CancellationToken cancellation)
    {
        using var scope = NewDisposeScope();
        var text = WireTensors.StackText(batch.Select(b => b.Text!), cascade.Device);
        var embeddings = Prior.Sample(text, batch.Select(b => b.Seed).ToList(), batch[0].RequiredSampling(), progress, cancellation);
        return BatchRowOutput.Rows(embeddings, batch.Count);
    }
}
