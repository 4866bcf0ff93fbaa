using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Models.Text;
using static TorchSharp.torch;

namespace DiffusionCluster.Tests.Shared;

/// A complete cascade model folder with tiny random networks: the cluster's behaviour (placement, batching,
/// failover, cancellation) does not depend on what the networks learned, and tiny ones run in milliseconds.
public static class TinyCascadeFolder
{
    static readonly Lazy<string> Folder = new(Create);

    public static string Path => Folder.Value;

    static string Create()
    {
        var root = Directory.CreateTempSubdirectory("dc-grains-").FullName;
        manual_seed(0);
        var text = new TextEncoderConfig { VocabSize = 128, MaxLength = 48, Width = 16, Layers = 1, Heads = 2, EmbedDim = 16 };
        var textFolder = System.IO.Path.Combine(root, CascadeFolder.TextEncoder);
        CascadeFolder.Save(root, CascadeFolder.TextEncoder, text, new TextTransformer(text));
        TextTokenizer.WriteVocabulary(textFolder, ["a", "red", "blue", "green", "circle", "square", "star", "on", "white", "background", "small", "large"]);
        var prior = new PriorConfig { EmbedDim = 16, TextWidth = 16, MaxTextLength = 48, Width = 16, Layers = 1, Heads = 2 };
        CascadeFolder.Save(root, CascadeFolder.Prior, prior, new DiffusionPrior(prior));
        var image = new ImageEncoderConfig { ImageSize = 64, Channels = [8, 16], EmbedDim = 16, StemStride = 4 };
        CascadeFolder.Save(root, CascadeFolder.ImageEncoder, image, new ImageEncoder(image));
        var noisyImage = image with { TimeConditioned = true };
        CascadeFolder.Save(root, CascadeFolder.NoisyImageEncoder, noisyImage, new ImageEncoder(noisyImage));
        var decoder = new UNetConfig
        {
            SampleSize = 64, BaseChannels = 8, ChannelMult = [1, 2], AttentionResolutions = [], Heads = 2,
            ContextDim = 16, ImageEmbedDim = 16, ImageTokens = 2, PatchSize = 4,
        };
        CascadeFolder.Save(root, CascadeFolder.Decoder64, decoder, Untrained(new UNet(decoder)));
        // A layout model, so sampling with a layout share runs the ILVR guide (in process and in the cluster).
        var layout = new LayoutConfig { MaxTextLength = 48, VocabSize = 128, TextLayers = 1, Width = 16, Layers = 1, Heads = 2, Grid = 4, Size = 16, ImageSize = 64 };
        CascadeFolder.Save(root, CascadeFolder.Layout, layout, new LayoutNetwork(layout));
        // sr256 diffuses a residual over bicubic (as bundled), sr1024 the image itself: both paths run in the cluster.
        var sr256 = decoder with { SampleSize = 256, ImageEmbedDim = 0, LowResChannels = 3, PatchSize = 8, PredictsResidual = true };
        CascadeFolder.Save(root, CascadeFolder.Sr256, sr256, new UNet(sr256));
        var sr1024 = sr256 with { SampleSize = 1024, PatchSize = 16, PredictsResidual = false };
        CascadeFolder.Save(root, CascadeFolder.Sr1024, sr1024, new UNet(sr1024));
        // DiffAE attribute directions over the tiny 16-dim image embedding.
        var directions = new Dictionary<string, Tensor> { ["red"] = nn.functional.normalize(randn(16), dim: 0), ["circle"] = nn.functional.normalize(randn(16), dim: 0) };
        new DiffusionCluster.Models.Editing.AttributeDirections(directions).Save(root);
        // A segmentation head over the tiny decoder's first decoder-path block (16 channels).
        var segmentation = new SegmentationConfig
        {
            Timesteps = [100], Blocks = [0], InChannels = 16, Hidden = 8,
            Classes = ["background", "circle", "square", "triangle", "star", "ring", "diamond", "hexagon", "cross"],
        };
        CascadeFolder.Save(root, DiffusionCluster.Models.Editing.Segmenter.Component, segmentation, new PixelClassifier(segmentation));
        // The bundled cascade's sampling defaults, so unset options sample as they do there.
        File.Copy(System.IO.Path.Combine(RepositoryRoot.Path, "models", "shapes-cascade", SamplingDefaults.File), System.IO.Path.Combine(root, SamplingDefaults.File));
        // Prompts go through a composer, as in the bundled cascade.
        CascadeFolder.SaveComposer(root, DiffusionCluster.Shapes.World.Shapes);
        return root;
    }

    /// A fresh U-Net's zero-initialised layers (its output convolution among them) filled with small random values, so
    /// its predictions depend on the input and the conditioning as a trained network's do.
    static UNet Untrained(UNet network)
    {
        using var _ = no_grad();
        foreach (var (_, parameter) in network.named_parameters())
            if (parameter.abs().max().item<float>() == 0)
                parameter.copy_(randn_like(parameter) * 0.05);
        return network;
    }
}
