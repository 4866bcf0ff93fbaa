using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Models.Weights;
using DiffusionCluster.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

/// Growing a trained U-Net (coordinate channels, the image map, the noise input gate) without losing what it learned.
public sealed class WarmStartTests : IDisposable
{
    static readonly UNetConfig Plain = new()
    {
        SampleSize = 16, BaseChannels = 8, ChannelMult = [1, 2], AttentionResolutions = [8], Heads = 2,
        ContextDim = 0, PatchSize = 2,
    };
    static readonly UNetConfig WithCoordinates = Plain with { CoordinateChannels = true };

    readonly string _folder = Directory.CreateTempSubdirectory("dc-warm-start-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string Trained(UNetConfig config, out UNet unet)
    {
        manual_seed(1);
        unet = new UNet(config);
        using (no_grad()) foreach (var (_, p) in unet.named_parameters()) p.add_(randn_like(p) * 0.1); // "trained": no zero layers
        var path = Path.Combine(_folder, "model.safetensors");
        Safetensors.Save(path, unet.state_dict());
        return path;
    }

    static Tensor Run(UNet unet, Tensor x, Tensor? imageEmbedding = null)
    {
        using var _ = no_grad();
        using var t = full(new long[] { x.shape[0] }, 300L);
        return unet.forward(x, t, new UNetConditioning(ImageEmbedding: imageEmbedding));
    }

    [Fact]
    public void A_plain_network_widened_with_coordinate_channels_computes_exactly_what_it_did()
    {
        var path = Trained(Plain, out var plain);
        manual_seed(2);
        var grown = new UNet(WithCoordinates);
        WarmStart.Load(grown, path, TextWriter.Null);
        using var x = randn(2, 3, 16, 16);

        using var before = Run(plain, x);
        using var after = Run(grown, x);

        Assert.Equal(before.shape, after.shape);
        Assert.True((before - after).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Once_its_coordinate_weights_are_learned_the_widened_network_uses_them()
    {
        // The widened weights start at zero (no effect); training moves them, and then position enters the output.
        var path = Trained(Plain, out _);
        manual_seed(2);
        var grown = new UNet(WithCoordinates);
        WarmStart.Load(grown, path, TextWriter.Null);
        using var x = zeros(1, 3, 16, 16);
        using var before = Run(grown, x);
        using (no_grad())
        {
            var weight = grown.named_parameters().Single(p => p.name == "_inputConv.weight").parameter;
            weight[TensorIndex.Colon, TensorIndex.Slice(12, 20)].copy_(randn(8, 8, 3, 3));
        }
        using var after = Run(grown, x);

        Assert.True((before - after).abs().max().item<float>() > 1e-3);
    }

    [Theory]
    [InlineData("image map", "_mapToFeatures.weight")]
    [InlineData("layout map", "_layoutMapToFeatures.weight")]
    public void A_decoder_grown_by_a_map_computes_exactly_what_it_did_until_the_map_is_learned(string map, string zeroedWeight)
    {
        var decoder = Plain with { ImageEmbedDim = 6, ImageTokens = 0 };
        var path = Trained(decoder, out var before);
        manual_seed(2);
        var grown = new UNet(map == "image map" ? decoder with { ImageMapChannels = 4 } : decoder with { LayoutMapChannels = 4, LayoutMapSize = 8 });
        WarmStart.Load(grown, path, TextWriter.Null);
        using var x = randn(2, 3, 16, 16);
        using var embedding = randn(2, 6);

        using var old = Run(before, x, embedding);
        using var same = Run(grown, x, embedding);
        using (no_grad())
        {
            var weight = grown.named_parameters().Single(p => p.name == zeroedWeight).parameter;
            weight.copy_(randn_like(weight));
        }
        using var learned = Run(grown, x, embedding);

        Assert.True((old - same).abs().max().item<float>() < 1e-6);
        Assert.True((old - learned).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void A_network_grown_by_the_noise_input_gate_computes_exactly_what_it_did_until_the_gate_is_learned()
    {
        var path = Trained(Plain, out var before);
        manual_seed(2);
        var grown = new UNet(Plain with { NoiseInputGate = true });
        WarmStart.Load(grown, path, TextWriter.Null);
        using var x = randn(2, 3, 16, 16);

        using var old = Run(before, x);
        using var same = Run(grown, x);
        using (no_grad())
        {
            var weight = grown.named_parameters().Single(p => p.name == "_inputGate.weight").parameter;
            weight.copy_(randn_like(weight));
        }
        using var learned = Run(grown, x);

        Assert.True((old - same).abs().max().item<float>() < 1e-6);
        Assert.True((old - learned).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void A_tensor_that_does_not_fit_is_named_with_both_shapes()
    {
        var path = Trained(WithCoordinates, out _);
        var smaller = new UNet(Plain);

        var error = Assert.Throws<ModelFormatException>(() => WarmStart.Load(smaller, path, TextWriter.Null));

        Assert.Contains("_inputConv.weight has shape [8, 20, 3, 3], which does not fit in [8, 12, 3, 3]", error.Message);
    }

    [Fact]
    public void Missing_and_unknown_tensors_are_refused()
    {
        var path = Trained(Plain, out _);
        var other = new UNet(Plain with { ContextDim = 8 }); // cross-attention layers the file lacks

        var error = Assert.Throws<ModelFormatException>(() => WarmStart.Load(other, path, TextWriter.Null));

        Assert.Contains("has no tensor", error.Message);
    }
}
