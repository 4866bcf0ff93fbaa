using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

/// Label-efficient segmentation's parts on the tiny cascade: decoder features of the right shape and
/// deterministic, a per-pixel classifier that loads and predicts a class per pixel, and the mask colours.
public class SegmenterTests
{
    static readonly CascadePipeline Cascade = new(TinyCascadeFolder.Path, CPU);

    [Fact]
    public void Decoder_features_are_per_pixel_deterministic_and_checked()
    {
        using var images = rand(new long[] { 2, 3, 64, 64 }, generator: new Generator(1)) * 2 - 1;

        using var a = Cascade.Decoder.Features(images, [50, 200], [0, 3], seed: 4);
        using var b = Cascade.Decoder.Features(images, [50, 200], [0, 3], seed: 4);

        // Block 0 (16 channels, coarse) and block 3 (8 channels, fine), at two noise levels, upsampled to 64x64.
        Assert.Equal(new long[] { 2, 2 * (16 + 8), 64, 64 }, a.shape);
        Assert.Equal(0, (a - b).abs().max().item<float>());
        Assert.Contains("decoder block 9", Assert.Throws<ArgumentException>(() => Cascade.Decoder.Features(images, [50], [9], 4)).Message);
        Assert.Contains("feature timestep 5000", Assert.Throws<ArgumentException>(() => Cascade.Decoder.Features(images, [5000], [0], 4)).Message);
    }

    [Fact]
    public void The_bundled_head_predicts_a_class_per_pixel_and_colours_the_mask()
    {
        var segmenter = Segmenter.Load(TinyCascadeFolder.Path, Cascade);
        using var images = rand(new long[] { 1, 3, 64, 64 }, generator: new Generator(2)) * 2 - 1;

        using var labels = segmenter.Predict(images);
        using var mask = Segmenter.Colourise(labels, segmenter.Config.Classes.Length);

        Assert.Equal(new long[] { 1, 64, 64 }, labels.shape);
        Assert.InRange(labels.max().item<long>(), 0, 8);
        Assert.Equal(new long[] { 1, 3, 64, 64 }, mask.shape);
        Assert.Equal(9, Segmenter.Palette(9).Distinct().Count());
        Assert.Equal(((byte)255, (byte)255, (byte)255), Segmenter.Palette(9)[0]);
    }
}
