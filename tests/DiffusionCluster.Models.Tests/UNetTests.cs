using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

public class UNetTests
{
    static UNetConditioning DecoderConditioning(TextEncoding text, long batch) => new(Text: text, ImageEmbedding: randn(batch, 12));

    static void Perturb(nn.Module module)
    {
        // Output layers start at zero (identity residuals); perturb so conditioning effects are visible.
        using (no_grad()) foreach (var (_, p) in module.named_parameters()) p.add_(randn_like(p) * 0.05);
    }

    [Fact]
    public void Decoder_keeps_the_input_shape_and_is_deterministic_under_a_seed() => AssertShapeAndDeterminism(Tiny.Decoder, 16);

    [Fact]
    public void A_decoder_with_coordinate_channels_keeps_the_input_shape_and_is_deterministic_under_a_seed() =>
        AssertShapeAndDeterminism(Tiny.Decoder with { CoordinateChannels = true }, 16);

    [Theory]
    [InlineData(16)] // sample_size: the map is added at the coarsest level as it is
    [InlineData(24)] // another size: the map is resized to the coarsest level's feature map
    public void A_decoder_with_an_image_map_keeps_the_input_shape_and_is_deterministic_under_a_seed(int size) =>
        AssertShapeAndDeterminism(Tiny.Decoder with { ImageMapChannels = 4 }, size);

    [Theory]
    [InlineData(16, 16)] // at the finest level, as it is
    [InlineData(8, 16)] // at the coarsest level
    [InlineData(16, 24)] // another input size: the map is resized to the level's feature map
    public void A_decoder_with_a_layout_map_keeps_the_input_shape_and_is_deterministic_under_a_seed(int mapSize, int size) =>
        AssertShapeAndDeterminism(Tiny.Decoder with { LayoutMapChannels = 4, LayoutMapSize = mapSize }, size);

    [Fact]
    public void A_layout_map_ignores_the_tokens_of_a_dropped_caption()
    {
        var unet = Tiny.Seeded(3, () => new UNet(Tiny.Decoder with { LayoutMapChannels = 4, LayoutMapSize = 16 }));
        Perturb(unet);
        var text = Tiny.Seeded(4, () => new TextTransformer(Tiny.Text));
        using var first = Tiny.Encode(text, 2);
        using var second = new TextEncoding(randn_like(first.Tokens), first.Mask.clone(), first.Pooled.clone());
        using var x = randn(2, 3, 16, 16);
        using var t = tensor(new long[] { 100, 900 });
        using var image = randn(2, 12);
        using var dropped = ones(2, dtype: @bool);
        using var _ = no_grad();

        using var a = unet.forward(x, t, new UNetConditioning(first, image) { DropText = dropped });
        using var b = unet.forward(x, t, new UNetConditioning(second, image) { DropText = dropped });
        using var kept = unet.forward(x, t, new UNetConditioning(second, image));

        Assert.True(Tiny.MaxAbsDiff(a, b) < 1e-6);
        Assert.True(Tiny.MaxAbsDiff(a, kept) > 1e-4);
    }

    [Fact]
    public void A_layout_map_must_sit_at_a_level_of_an_unclip_decoder()
    {
        var notALevel = Assert.Throws<ArgumentException>(() => new UNet(Tiny.Decoder with { LayoutMapChannels = 4, LayoutMapSize = 12 }));
        var notADecoder = Assert.Throws<ArgumentException>(() => new UNet(Tiny.SuperResolution with { LayoutMapChannels = 4, LayoutMapSize = 16 }));

        Assert.Contains("layout_map_size = 12 is not the size of any level (16, 8)", notALevel.Message);
        Assert.Contains("layout_map_channels = 4 needs an unCLIP decoder (image_embed_dim > 0)", notADecoder.Message);
    }

    static void AssertShapeAndDeterminism(UNetConfig config, int size)
    {
        var text = Tiny.Seeded(6, () => new TextTransformer(Tiny.Text));
        var a = Tiny.Seeded(6, () => new UNet(config));
        var b = Tiny.Seeded(6, () => new UNet(config));
        Perturb(Tiny.Seeded(7, () => a));
        Perturb(Tiny.Seeded(7, () => b));
        using var encoded = Tiny.Encode(text);
        var conditioning = DecoderConditioning(encoded, 2);
        using var x = randn(2, 3, size, size);
        using var t = tensor(new long[] { 3, 700 });

        using var ya = a.forward(x, t, conditioning);
        using var yb = b.forward(x, t, conditioning);

        Assert.Equal(new long[] { 2, 3, size, size }, ya.shape);
        Assert.Equal(0, Tiny.MaxAbsDiff(ya, yb));
        Assert.False(ya.isnan().any().item<bool>());
    }

    [Fact]
    public void An_image_map_needs_an_unclip_decoder()
    {
        var error = Assert.Throws<ArgumentException>(() => new UNet(Tiny.SuperResolution with { ImageMapChannels = 4 }));

        Assert.Contains("image_map_channels = 4 needs an unCLIP decoder (image_embed_dim > 0)", error.Message);
    }

    [Fact]
    public void Fresh_networks_have_no_uninitialised_norms()
    {
        var unet = new UNet(Tiny.Decoder);

        foreach (var (name, p) in unet.named_parameters())
            Assert.False(p.isnan().any().item<bool>() || p.abs().max().item<float>() > 1e3, $"{name} is uninitialised");
    }

    [Fact]
    public void Learned_variance_doubles_the_output_channels()
    {
        var unet = new UNet(Tiny.Decoder with { OutChannels = 6 });
        var text = new TextTransformer(Tiny.Text);
        using var encoded = Tiny.Encode(text, 1);

        using var y = unet.forward(randn(1, 3, 16, 16), tensor(new long[] { 5 }), DecoderConditioning(encoded, 1));

        Assert.Equal(new long[] { 1, 6, 16, 16 }, y.shape);
    }

    [Fact]
    public void Dropped_conditioning_changes_only_the_dropped_rows()
    {
        var text = Tiny.Seeded(8, () => new TextTransformer(Tiny.Text));
        var unet = Tiny.Seeded(8, () => new UNet(Tiny.Decoder));
        Perturb(unet);
        using var encoded = Tiny.Encode(text);
        using var x = randn(2, 3, 16, 16);
        using var t = tensor(new long[] { 400, 400 });
        using var image = randn(2, 12);

        using var kept = unet.forward(x, t, new UNetConditioning(encoded, image));
        using var dropped = unet.forward(x, t, new UNetConditioning(encoded, image, DropConditioning: tensor(new[] { false, true })));

        Assert.True(Tiny.MaxAbsDiff(kept[0], dropped[0]) < 1e-4, $"kept row differs by {Tiny.MaxAbsDiff(kept[0], dropped[0])}");
        Assert.True(Tiny.MaxAbsDiff(kept[1], dropped[1]) > 1e-2);
    }

    [Fact]
    public void Super_resolution_uses_the_low_resolution_image_and_its_augmentation_level()
    {
        var unet = Tiny.Seeded(9, () => new UNet(Tiny.SuperResolution));
        Perturb(unet);
        var text = new TextTransformer(Tiny.Text);
        using var encoded = Tiny.Encode(text, 1);
        using var x = randn(1, 3, 32, 32);
        using var t = tensor(new long[] { 100 });
        using var lowRes = rand(1, 3, 8, 8);

        using var a = unet.forward(x, t, new UNetConditioning(encoded, LowRes: lowRes, AugmentationLevel: tensor(new long[] { 0 })));
        using var b = unet.forward(x, t, new UNetConditioning(encoded, LowRes: lowRes, AugmentationLevel: tensor(new long[] { 250 })));
        using var c = unet.forward(x, t, new UNetConditioning(encoded, LowRes: lowRes * 0, AugmentationLevel: tensor(new long[] { 0 })));

        Assert.Equal(new long[] { 1, 3, 32, 32 }, a.shape);
        Assert.True(Tiny.MaxAbsDiff(a, b) > 1e-5);
        Assert.True(Tiny.MaxAbsDiff(a, c) > 1e-5);
    }

    [Fact]
    public void A_noise_input_gate_starts_open_and_once_closed_at_a_timestep_leaves_the_output_independent_of_x_t()
    {
        var gated = Tiny.Seeded(9, () => new UNet(Tiny.SuperResolution with { NoiseInputGate = true }));
        Perturb(Tiny.Seeded(10, () => gated));
        var plain = new UNet(Tiny.SuperResolution);
        plain.load_state_dict(gated.state_dict().Where(p => !p.Key.StartsWith("_inputGate.")).ToDictionary(), strict: false);
        var text = new TextTransformer(Tiny.Text);
        using var encoded = Tiny.Encode(text, 1);
        var conditioning = new UNetConditioning(encoded, LowRes: rand(1, 3, 8, 8), AugmentationLevel: tensor(new long[] { 0 }));
        using var t = tensor(new long[] { 999 });
        using var x = randn(1, 3, 32, 32);
        using var other = randn(1, 3, 32, 32);

        using var open = plain.forward(x, t, conditioning);
        using (no_grad()) foreach (var (name, p) in gated.named_parameters()) if (name.StartsWith("_inputGate.")) p.zero_(); // as initialised: factors 1
        using var opened = gated.forward(x, t, conditioning);
        using (no_grad()) gated.named_parameters().Single(p => p.name == "_inputGate.bias").parameter.fill_(-1); // every factor 0
        using var closed = gated.forward(x, t, conditioning);
        using var closedOther = gated.forward(other, t, conditioning);

        Assert.Equal(0, Tiny.MaxAbsDiff(open, opened));
        Assert.True(Tiny.MaxAbsDiff(opened, closed) > 1e-5);
        Assert.Equal(0, Tiny.MaxAbsDiff(closed, closedOther));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(128)]
    public void Space_to_depth_stage_is_fully_convolutional(long size)
    {
        var unet = new UNet(Tiny.SpaceToDepth);
        var text = new TextTransformer(Tiny.Text);
        using var encoded = Tiny.Encode(text, 1);

        using var y = unet.forward(randn(1, 3, size, size), tensor(new long[] { 10 }),
            new UNetConditioning(encoded, LowRes: rand(1, 3, size / 4, size / 4), AugmentationLevel: tensor(new long[] { 0 })));

        Assert.Equal(new long[] { 1, 3, size, size }, y.shape);
    }

    [Fact]
    public void Space_to_depth_does_the_work_at_a_quarter_resolution()
    {
        var direct = new UNet(Tiny.SuperResolution with { SampleSize = 64 });
        var patched = new UNet(Tiny.SpaceToDepth);

        // Same widths and depth; only the first and last convolutions grow with the patch area.
        long Count(nn.Module m) => m.parameters().Sum(p => p.numel());
        Assert.InRange(Count(patched), Count(direct), Count(direct) * 2);
    }

    [Fact]
    public void Missing_conditioning_and_bad_sizes_fail_with_clear_errors()
    {
        var decoder = new UNet(Tiny.Decoder);
        var sr = new UNet(Tiny.SuperResolution);
        using var t = tensor(new long[] { 1 });

        var noImage = Assert.Throws<ArgumentException>(() => decoder.forward(randn(1, 3, 16, 16), t, new UNetConditioning()));
        var noLowRes = Assert.Throws<ArgumentException>(() => sr.forward(randn(1, 3, 32, 32), t, new UNetConditioning()));
        var oddSize = Assert.Throws<ArgumentException>(() => decoder.forward(randn(1, 3, 15, 15), t, new UNetConditioning(ImageEmbedding: randn(1, 12))));

        Assert.Contains("image embedding", noImage.Message);
        Assert.Contains("low-resolution", noLowRes.Message);
        Assert.Contains("not a multiple of 2", oddSize.Message);
    }

    [Fact]
    public void Invalid_configs_name_the_field()
    {
        var error = Assert.Throws<ArgumentException>(() => new UNet(Tiny.Decoder with { AttentionResolutions = [5] }));

        Assert.Contains("attention_resolutions", error.Message);
    }
}
