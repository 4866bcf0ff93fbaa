using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages.Executors;

/// Samples images with one U-Net: from the image embedding (the first image stage) or from the image before it
/// (super-resolution). Text is optional after an uncaptioned image operation.
public sealed class ImageExecutor(CascadePipeline cascade, StageDescriptor stage) : IBatchExecutor
{
    ImageSampler Sampler => cascade.Image(stage.Component);

    public void Load() => _ = Sampler;

    public void Validate(StageInput input)
    {
        if (Sampler.IsSuperResolution && input.LowRes is null) throw new ArgumentException($"{stage.Stage.Name()}: the request carries no low-resolution image");
        if (!Sampler.IsSuperResolution && input.ImageEmbedding is null) throw new ArgumentException($"{stage.Stage.Name()}: the request carries no image embedding");
        if (!Sampler.IsSuperResolution && input.Text is null) throw new ArgumentException($"{stage.Stage.Name()}: the request carries no text features");
        Sampler.Validate(input.RequiredSampling());
    }

    public int? Steps(StageInput input) => input.Sampling?.Steps ?? Sampler.Defaults.Steps;

    public IReadOnlyList<BatchRowOutput> Run(IReadOnlyList<StageInput> batch, StepProgress progress, CancellationToken cancellation)
    {
        using var scope = NewDisposeScope();
        var device = cascade.Device;
        var text = batch[0].Text is null ? null : WireTensors.StackText(batch.Select(b => b.Text!), device);
        var seeds = batch.Select(b => b.Seed).ToList();
        var sampling = batch[0].RequiredSampling();
        var images = !Sampler.IsSuperResolution
            ? Sampler.Sample(text, WireTensors.Stack(batch.Select(b => b.ImageEmbedding!), device), null, seeds, sampling, progress, cancellation)
            : Sampler.Sample(text, null, WireTensors.Stack(batch.Select(b => b.LowRes!), device), seeds, sampling, progress, cancellation,
                new DecodeOptions { WithoutText = text is null });
        return BatchRowOutput.Rows(images, batch.Count);
    }
}
