using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Tests;

public sealed class SampleWindowsTests
{
    static UNetConditioning LowResOnly(Tensor lowRes, params long[] levels) => new(LowRes: lowRes, AugmentationLevel: tensor(levels));

    [Fact]
    public void Windows_overlap_by_a_quarter_on_the_networks_grid_and_the_last_is_flush_with_the_edge()
    {
        var sr1024 = WindowTiling.For(DiffusionCluster.Models.Configs.CascadeDefaults.Sr1024 with { SampleWindow = 128 })!;
        var starts = sr1024.Starts(1024);

        Assert.Equal(new WindowTiling(128, 32), sr1024);
        Assert.Equal([0, 96, 192, 288, 384, 480, 576, 672, 768, 864, 896], starts);
        Assert.All(starts, s => Assert.Equal(0, s % 32));
        Assert.Equal([0, 48, 96, 144, 192], new WindowTiling(64, 16).Starts(256));
        Assert.Equal([0], sr1024.Starts(64)); // a window as large as the image is the whole image
        Assert.Equal([0, 128, 256, 384, 512, 640, 768, 896], new WindowTiling(128, 0).Starts(1024)); // no overlap: a plain grid
    }

    [Fact]
    public void A_tiling_off_the_networks_grid_or_overlapping_a_whole_window_is_refused_with_its_limits()
    {
        var config = DiffusionCluster.Models.Configs.CascadeDefaults.Sr1024;
        Assert.Equal(new WindowTiling(256, 0), WindowTiling.For(config, window: 256, overlap: 0));
        Assert.Null(WindowTiling.For(config with { SampleWindow = 0 }));
        foreach (var (window, overlap) in new[] { (128, 16), (100, 0), (128, 128), (128, -32) })
        {
            var error = Assert.Throws<ArgumentException>(() => WindowTiling.For(config, window, overlap));
            Assert.Contains("multiples of 32", error.Message);
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(0)]
    public void Blending_returns_what_every_window_agrees_on(int overlap)
    {
        using var x = randn(2, 3, 96, 96);
        using var lowRes = rand(2, 3, 24, 24);

        using var windowed = SampleWindows.Forward((window, _) => window * 2, x, LowResOnly(lowRes, 0, 0), new WindowTiling(32, overlap));

        Assert.True(Tiny.MaxAbsDiff(windowed, x * 2) < 1e-5);
    }

    [Fact]
    public void Each_window_gets_its_own_window_of_the_low_resolution_image_and_each_row_its_own_conditioning()
    {
        using var x = zeros(2, 3, 96, 96);
        using var lowRes = rand(2, 3, 24, 24);
        using var levels = tensor(new long[] { 1, 5 });
        Tensor Network(Tensor window, UNetConditioning c) =>
            F.interpolate(c.LowRes!, new[] { window.shape[2], window.shape[3] }, mode: InterpolationMode.Nearest) * c.AugmentationLevel!.view(-1, 1, 1, 1);

        using var windowed = SampleWindows.Forward(Network, x, new UNetConditioning(LowRes: lowRes, AugmentationLevel: levels), new WindowTiling(32, 8));
        using var whole = Network(x, new UNetConditioning(LowRes: lowRes, AugmentationLevel: levels));

        Assert.True(Tiny.MaxAbsDiff(windowed, whole) < 1e-5);
    }

    [Fact]
    public void Windows_that_do_not_align_with_the_low_resolution_pixels_are_refused()
    {
        using var x = zeros(1, 3, 96, 96);
        using var lowRes = zeros(1, 3, 32, 32); // factor 3: a window of 32 px covers 10.7 input pixels

        var error = Assert.Throws<ArgumentException>(() => SampleWindows.Forward((w, _) => w, x, LowResOnly(lowRes, 0), new WindowTiling(32, 8)));

        Assert.Contains("do not align", error.Message);
    }

    [Fact]
    public void A_super_resolution_unet_sampled_in_windows_keeps_the_image_size_and_one_window_is_the_plain_network()
    {
        var unet = Tiny.Seeded(3, () => new UNet(Tiny.SuperResolution));
        var text = new TextTransformer(Tiny.Text);
        using var encoded = Tiny.Encode(text, 1);
        using var x = randn(1, 3, 64, 64);
        using var lowRes = rand(1, 3, 16, 16);
        using var t = tensor(new long[] { 999 });
        var conditioning = new UNetConditioning(encoded, LowRes: lowRes, AugmentationLevel: tensor(new long[] { 0 }));
        Tensor Network(Tensor window, UNetConditioning c) => unet.forward(window, t.expand(window.shape[0]), c);

        using var windowed = SampleWindows.Forward(Network, x, conditioning, new WindowTiling(32, 8));
        using var single = SampleWindows.Forward(Network, x, conditioning, new WindowTiling(64, 16));
        using var plain = Network(x, conditioning);

        Assert.Equal(x.shape, windowed.shape);
        Assert.False(windowed.isnan().any().item<bool>());
        Assert.Equal(0, Tiny.MaxAbsDiff(single, plain));
    }

    [Theory]
    [InlineData(false, 23)] // not a multiple of the size multiple (2)
    [InlineData(false, 64)] // larger than sample_size (32)
    [InlineData(true, 16)]  // the base decoder has no low-resolution input to window
    public void A_sample_window_must_fit_a_super_resolution_stage(bool decoder, int window)
    {
        var config = (decoder ? Tiny.Decoder : Tiny.SuperResolution) with { SampleWindow = window };

        var error = Assert.Throws<ArgumentException>(() => config.Validate());

        Assert.Contains($"sample_window = {window} must be 0 or, for a super-resolution stage, a multiple of", error.Message);
    }
}
