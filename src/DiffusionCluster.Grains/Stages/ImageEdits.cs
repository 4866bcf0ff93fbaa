using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Models.Networks;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages;

/// The decoder64 stage's image operations: a batch of requests with the same operation and settings (see
/// StageExecutor.BatchKey) turned into one decoder call. Returns one row per request.
public static class ImageEdits
{
    public static Tensor Run(ImageOperations operations, Func<AttributeDirections> directions, Func<Segmenter> segmenter,
        IReadOnlyList<StageInput> batch, TextEncoding? text,
        SamplingOptions sampling, Action<int, int> progress, CancellationToken cancellation)
    {
        var edit = batch[0].Edit!;
        var device = operations.Cascade.Device;
        var seeds = batch.Select(b => b.Seed).ToList();
        var images = WireTensors.Stack(batch.Select(b => b.Edit!.Image), device);
        Tensor Embeddings() => WireTensors.Stack(batch.Select(b => b.ImageEmbedding!), device);
        var decoder = operations.Cascade.Decoder;
        switch (edit.Kind)
        {
            case ImageEditKind.Variation:
                return operations.Variations(images, text, seeds, sampling, progress, cancellation);
            case ImageEditKind.SdEdit:
                return decoder.Sample(text, Embeddings(), null, seeds, sampling, progress, cancellation,
                    new DecodeOptions { Edit = new SdEditGuide(images, edit.Strength) });
            case ImageEditKind.Ilvr:
                return decoder.Sample(text, Embeddings(), null, seeds, sampling, progress, cancellation,
                    new DecodeOptions { Edit = new IlvrGuide(images, edit.Factor, edit.Cutoff) });
            case ImageEditKind.Segment:
                var classes = segmenter();
                using (var labels = classes.Predict(images))
                    return Segmenter.Colourise(labels, classes.Config.Classes.Length);
            case ImageEditKind.Inpaint:
                var keep = WireTensors.Stack(batch.Select(b => b.Edit!.Mask!), device);
                return decoder.Sample(text, Embeddings(), null, seeds, sampling, progress, cancellation,
                    new DecodeOptions { Edit = new InpaintGuide(images, keep, edit.Resample) });
        }
        // The rest run one request at a time (their batch key holds the request id).
        if (batch.Count != 1) throw new InvalidOperationException($"{edit.Kind} runs one request per batch; got {batch.Count}");
        var sourceText = edit.Kind == ImageEditKind.TextDiff ? WireTensors.StackText([batch[0].SourceText!], device) : null;
        // Inversion is conditioned on the source's caption: the prompt for a reconstruction, the source caption
        // for a text diff, none between two images.
        var inversionText = edit.Kind switch
        {
            ImageEditKind.TextDiff => sourceText,
            ImageEditKind.Reconstruct => text,
            _ => null,
        };
        using var latent = operations.Encode(images, inversionText, edit.InversionSteps, cancellation);
        switch (edit.Kind)
        {
            case ImageEditKind.Reconstruct:
                return operations.Decode(latent);
            case ImageEditKind.Attribute:
                return operations.Manipulate(latent, directions(), edit.AttributeName!, [edit.Amount], cancellation);
            case ImageEditKind.TextDiff:
                return operations.TextDiff(latent, sourceText!, text!, [edit.Amount], cancellation);
            case ImageEditKind.Interpolate:
                using (var second = operations.Encode(WireTensors.Stack([edit.Second!], device), null, edit.InversionSteps, cancellation))
                {
                    using var frames = operations.Interpolate(latent, second, edit.Frames, edit.InterpolateNoise, cancellation: cancellation);
                    // One strip, frames side by side: [1, 3, 64, 64 * frames].
                    return cat(frames.unbind(0).ToArray(), 2).unsqueeze(0);
                }
            default:
                throw new ArgumentException($"unknown image operation {edit.Kind}");
        }
    }
}
