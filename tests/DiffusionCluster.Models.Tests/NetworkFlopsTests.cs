using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

/// NetworkFlops walks each network's layers by hand; these tests hold each walk to the network it describes (the
/// convolutions and linear layers it counts hold exactly the network's weights), to closed forms on layers small
/// enough to count on paper, and check that a FlopTally receives every forward run under it.
public class NetworkFlopsTests
{
    /// The weights of the network's convolutions and linear layers: every parameter named "weight" with two or more
    /// dimensions, less the embedding tables (looked up, not multiplied).
    static long ProductWeights(nn.Module network) => network.named_parameters()
        .Where(p => p.name.EndsWith(".weight", StringComparison.Ordinal) && p.parameter.dim() >= 2)
        .Where(p => !p.name.StartsWith("_tokenEmbedding.", StringComparison.Ordinal) && !p.name.StartsWith("_words.", StringComparison.Ordinal))
        .Sum(p => p.parameter.numel());

    public static TheoryData<string> UNets => new() { "tiny decoder", "tiny decoder, image map", "tiny decoder, layout map", "tiny sr", "tiny space-to-depth sr", "decoder64", "sr256", "sr1024" };

    static UNetConfig UNetNamed(string name) => name switch
    {
        "tiny decoder" => Tiny.Decoder with { CoordinateChannels = true },
        "tiny decoder, image map" => Tiny.Decoder with { ImageMapChannels = 4 },
        "tiny decoder, layout map" => Tiny.Decoder with { LayoutMapChannels = 4, LayoutMapSize = 8 },
        "tiny sr" => Tiny.SuperResolution with { NoiseInputGate = true },
        "tiny space-to-depth sr" => Tiny.SpaceToDepth,
        "decoder64" => CascadeDefaults.Decoder64,
        "sr256" => CascadeDefaults.Sr256,
        "sr1024" => CascadeDefaults.Sr1024,
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(UNets))]
    public void The_UNet_walk_counts_every_weight_of_the_network_once(string name)
    {
        var config = UNetNamed(name);
        using var network = new UNet(config);
        var count = NetworkFlops.UNet(config, 1, config.SampleSize, config.SampleSize, textTokens: 5, imageEmbedding: config.ImageEmbedDim > 0);
        Assert.Equal(ProductWeights(network), count.Weights);
    }

    [Fact]
    public void The_transformer_walks_count_every_weight_of_their_networks_once()
    {
        foreach (var config in new[] { Tiny.Prior, CascadeDefaults.Prior })
        {
            using var prior = new DiffusionPrior(config);
            Assert.Equal(ProductWeights(prior), NetworkFlops.Prior(config, 1, 6).Weights);
        }
        foreach (var config in new[] { Tiny.Text, CascadeDefaults.TextEncoder })
        {
            using var text = new TextTransformer(config);
            Assert.Equal(ProductWeights(text), NetworkFlops.Text(config, 1, 6).Weights);
        }
        foreach (var config in new[] { Tiny.Layout, CascadeDefaults.Layout })
        {
            using var layout = new LayoutNetwork(config);
            Assert.Equal(ProductWeights(layout), NetworkFlops.Layout(config, 1, 6).Weights);
        }
    }

    [Fact]
    public void A_convolution_and_a_linear_layer_count_two_operations_per_multiply_add()
    {
        var count = new NetworkFlops.Count();
        count.Conv(inChannels: 3, outChannels: 4, kernel: 3, outputPixels: 10);
        Assert.Equal(2L * 3 * 4 * 9 * 10, count.Flops);
        count.Linear(inFeatures: 5, outFeatures: 7, rows: 2);
        Assert.Equal(2L * 3 * 4 * 9 * 10 + 2L * 5 * 7 * 2, count.Flops);
    }

    [Fact]
    public void A_text_encoder_layer_counts_its_projections_MLP_and_attention_products()
    {
        // One layer of width w over L tokens: q, k, v and output projections (4 w^2 L multiply-adds), scores and weighted
        // values (2 L^2 w), the MLP (8 w^2 L); then the pooled token's projection to the embedding (w e).
        var config = Tiny.Text;
        long w = config.Width, e = config.EmbedDim, length = 6, batch = 3;
        long expected = 2 * batch * (4 * w * w * length + 2 * length * length * w + 8 * w * w * length + w * e);
        Assert.Equal(expected, NetworkFlops.Text(config, batch, length).Flops);
    }

    [Fact]
    public void The_work_grows_with_the_batch_and_the_pixels()
    {
        var config = CascadeDefaults.Decoder64;
        long one = NetworkFlops.UNet(config, 1, 64, 64, 8, true).Flops;
        long textPart = NetworkFlops.UNet(config, 1, 64, 64, 8, true).Flops - NetworkFlops.UNet(config, 1, 64, 64, 0, true).Flops;
        Assert.True(textPart > 0, "caption tokens add projection and cross-attention work");
        Assert.Equal(4 * one, NetworkFlops.UNet(config, 4, 64, 64, 8, true).Flops);
        // Four times the pixels: convolutions 4x, self-attention's products 16x, so more than 4x in all.
        Assert.True(NetworkFlops.UNet(config, 1, 128, 128, 8, true).Flops > 4 * one);
    }

    [Fact]
    public async Task A_tally_receives_each_forward_run_while_it_is_open_and_nothing_after()
    {
        using var network = Tiny.Seeded(1, () => new UNet(Tiny.Decoder));
        using var encoder = Tiny.Seeded(2, () => new TextTransformer(Tiny.Text));
        using var text = Tiny.Encode(encoder, batch: 2);
        using var x = randn(2, 3, 16, 16);
        using var t = tensor(new long[] { 10, 500 });
        var conditioning = new UNetConditioning(Text: text, ImageEmbedding: randn(2, 12));
        long expected = NetworkFlops.UNet(Tiny.Decoder, 2, 16, 16, text.Tokens.shape[1], true).Flops;

        long counted;
        using (var tally = FlopTally.Start())
        {
            Assert.True(FlopTally.Counting);
            using (no_grad()) network.forward(x, t, conditioning).Dispose();
            await Task.Run(() => { using var _ = no_grad(); network.forward(x, t, conditioning).Dispose(); });
            counted = tally.Flops;
        }
        Assert.Equal(2 * expected, counted);
        Assert.False(FlopTally.Counting);
    }
}
