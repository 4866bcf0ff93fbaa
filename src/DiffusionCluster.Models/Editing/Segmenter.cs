using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Models.Weights;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Editing;

/// Label-efficient semantic segmentation (Baranchuk et al.): per-pixel features from the 64px decoder's
/// activations (or raw pixels, the baseline), classified by a small per-pixel MLP trained on a few labelled
/// images. Bundled beside the cascade as the segmentation/ component.
public sealed class Segmenter(ImageSampler? decoder, PixelClassifier classifier)
{
    public const string Component = "segmentation";

    public PixelClassifier Classifier { get; } = classifier;
    public SegmentationConfig Config => Classifier.Config;

    public static Segmenter Load(string modelFolder, CascadePipeline cascade)
    {
        var classifier = Weights.Component.Load<SegmentationConfig, PixelClassifier>(CascadeFolder.Path(modelFolder, Component), c => new PixelClassifier(c), cascade.Device);
        return new Segmenter(classifier.Config.UsesDecoder ? cascade.Decoder : null, classifier);
    }

    public void Save(string modelFolder) => CascadeFolder.Save(modelFolder, Component, Config, Classifier);

    /// The features the classifier reads: decoder activations, or the pixels themselves for the baseline.
    public static Tensor Features(ImageSampler? decoder, SegmentationConfig config, Tensor images)
    {
        if (!config.UsesDecoder) return images.alias();
        if (decoder is null) throw new InvalidOperationException("this segmentation reads decoder features but no decoder was given");
        return decoder.Features(images, config.Timesteps, config.Blocks, config.NoiseSeed);
    }

    /// Class index per pixel: [B, H, W] int64.
    public Tensor Predict(Tensor images)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var features = Features(decoder, Config, images);
        return Classifier.forward(features).argmax(1).MoveToOuterDisposeScope();
    }

    /// A colour per class (background white), as an image in [-1, 1]: what the mask PNG shows.
    public static Tensor Colourise(Tensor labels, int classes)
    {
        using var scope = NewDisposeScope();
        var palette = tensor(Palette(classes).SelectMany(c => new[] { c.R / 127.5f - 1, c.G / 127.5f - 1, c.B / 127.5f - 1 }).ToArray(), new long[] { classes, 3 })
            .to(labels.device);
        return palette[labels].permute(0, 3, 1, 2).contiguous().MoveToOuterDisposeScope();
    }

    /// Distinct colours: white for class 0, then evenly spaced hues.
    public static IReadOnlyList<(byte R, byte G, byte B)> Palette(int classes) =>
        Enumerable.Range(0, classes).Select(k =>
        {
            if (k == 0) return ((byte)255, (byte)255, (byte)255);
            double hue = (k - 1) * 360.0 / Math.Max(1, classes - 1), x = 1 - Math.Abs(hue / 60 % 2 - 1);
            (double R, double G, double B) rgb = (int)(hue / 60) switch
            {
                0 => (1.0, x, 0.0), 1 => (x, 1.0, 0.0), 2 => (0.0, 1.0, x), 3 => (0.0, x, 1.0), 4 => (x, 0.0, 1.0), _ => (1.0, 0.0, x),
            };
            var (r, g, b) = rgb;
            return ((byte)(r * 200), (byte)(g * 200), (byte)(b * 200));
        }).ToList();
}
