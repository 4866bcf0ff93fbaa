using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Models.Networks;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages.Executors;

/// The image operations that sample with the decoder (variations, SDEdit, ILVR, inpainting, and those that start
/// by inversion): a batch of requests with the same operation and settings (see StageExecutor.BatchKey) turned
/// into one decoder call. Returns one row per request.
public sealed class EditExecutor(CascadePipeline cascade, StageDescriptor stage, string modelFolder) : IBatchExecutor
{
    readonly ImageOperations _operations = new(cascade);
    readonly Lazy<AttributeDirections> _directions = new(() => AttributeDirections.Load(modelFolder));

    ImageSampler Decoder => cascade.Image(stage.Component);

    public void Load() => _operations.Load();

    public void Validate(StageInput input)
    {
        var operation = input.Operation!;
        if (input.Text is null && !operation.PromptOptional) throw new ArgumentException($"{stage.Stage.Name()}: the request carries no text features");
        if (input.ImageEmbedding is null && !operation.UsesSourceEmbedding) throw new ArgumentException($"{stage.Stage.Name()}: the request carries no image embedding");
        Decoder.Validate(input.RequiredSampling());
        operation.Validate(Decoder.OutputSize);
        switch (operation)
        {
            case AttributeOperation attribute:
                _ = _directions.Value[attribute.Attribute];
                break;
            case TextDiffOperation when input.SourceText is null:
                throw new ArgumentException($"{stage.Stage.Name()}: a text diff carries no source caption features");
        }
    }

    public int? Steps(StageInput input) => input.Sampling?.Steps ?? Decoder.Defaults.Steps;

    public IReadOnlyList<BatchRowOutput> Run(IReadOnlyList<StageInput> batch, StepProgress progress, CancellationToken cancellation)
    {
        using var scope = NewDisposeScope();
        var text = batch[0].Text is null ? null : WireTensors.StackText(batch.Select(b => b.Text!), cascade.Device);
        var images = Run(batch, text, batch[0].RequiredSampling(), progress, cancellation);
        return BatchRowOutput.Rows(images, batch.Count);
    }

    Tensor Run(IReadOnlyList<StageInput> batch, TextEncoding? text, SamplingOptions sampling, StepProgress progress, CancellationToken cancellation)
    {
        var device = cascade.Device;
        var seeds = batch.Select(b => b.Seed).ToList();
        var images = WireTensors.Stack(batch.Select(b => b.Operation!.Image), device);
        Tensor Embeddings() => WireTensors.Stack(batch.Select(b => b.ImageEmbedding!), device);
        switch (batch[0].Operation)
        {
            case VariationOperation:
                return _operations.Variations(images, text, seeds, sampling, progress, cancellation);
            case SdEditOperation sdEdit:
                return Decoder.Sample(text, Embeddings(), null, seeds, sampling, progress, cancellation,
                    new DecodeOptions { Guide = new SdEditGuide(images, sdEdit.Strength) });
            case IlvrOperation ilvr:
                return Decoder.Sample(text, Embeddings(), null, seeds, sampling, progress, cancellation,
                    new DecodeOptions { Guide = new IlvrGuide(images, ilvr.Factor, ilvr.Cutoff) });
            case InpaintOperation inpaint:
                var keep = WireTensors.Stack(batch.Select(b => ((InpaintOperation)b.Operation!).Mask), device);
                return Decoder.Sample(text, Embeddings(), null, seeds, sampling, progress, cancellation,
                    new DecodeOptions { Guide = new InpaintGuide(images, keep, inpaint.Resample) });
        }
        // The rest invert the source and run one request at a time (their batch key holds the request id).
        var operation = (InvertingOperation)batch[0].Operation!;
        if (batch.Count != 1) throw new InvalidOperationException($"{operation.Name} runs one request per batch; got {batch.Count}");
        var edit = ContrastEditOptions.Default with { Steps = operation.InversionSteps };
        switch (operation)
        {
            case AttributeOperation attribute:
                // The result's tensors belong to Run's dispose scope, which frees the mask.
                return _operations.Manipulate(images, text, _directions.Value, attribute.Attribute, attribute.Amount, edit, seeds[0], progress, cancellation).Images;
            case TextDiffOperation diff:
                using (var sourceText = WireTensors.StackText([batch[0].SourceText!], device))
                return _operations.TextDiff(images, sourceText, text!, diff.Amount, edit, seeds[0], progress, cancellation).Images;
        }
        // Inversion is conditioned on the prompt for a reconstruction (the source's caption), none between two images.
        using var latent = _operations.Encode(images, operation is ReconstructOperation ? text : null, operation.InversionSteps, cancellation);
        switch (operation)
        {
            case ReconstructOperation:
                return _operations.Decode(latent);
            case InterpolateOperation interpolate:
                using (var second = _operations.Encode(WireTensors.Stack([interpolate.Second], device), null, operation.InversionSteps, cancellation))
                {
                    using var frames = _operations.Interpolate(latent, second, interpolate.Frames, interpolate.InterpolateNoise, cancellation: cancellation);
                    // One strip, frames side by side: [1, 3, 64, 64 * frames].
                    return cat(frames.unbind(0).ToArray(), 2).unsqueeze(0);
                }
            default:
                throw new ArgumentException($"unknown image operation {operation.Name}");
        }
    }
}
