using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages.Executors;

/// Label-efficient segmentation: the colour-coded class mask of each source image from the decoder's features.
/// Nothing is sampled, so sampling options are not read.
public sealed class SegmentExecutor(CascadePipeline cascade, string modelFolder) : IBatchExecutor
{
    readonly Lazy<Segmenter> _segmenter = new(() => Segmenter.Load(modelFolder, cascade));

    public void Load() => _ = _segmenter.Value;

    public void Validate(StageInput input)
    {
        input.Operation!.Validate(ImageOperation.ImageSize);
        _ = _segmenter.Value;
    }

    public int? Steps(StageInput input) => null;

    public IReadOnlyList<BatchRowOutput> Run(IReadOnlyList<StageInput> batch, StepProgress progress, CancellationToken cancellation)
    {
        using var scope = NewDisposeScope();
        var segmenter = _segmenter.Value;
        using var labels = segmenter.Predict(WireTensors.Stack(batch.Select(b => b.Operation!.Image), cascade.Device));
        var masks = Segmenter.Colourise(labels, segmenter.Config.Classes.Length);
        return BatchRowOutput.Rows(masks, batch.Count);
    }
}
