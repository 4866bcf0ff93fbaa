using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

/// The image operations on a tiny random cascade: shapes, determinism under a seed, what each edit must
/// preserve exactly, and no tensors left behind. Their quality on the bundled cascade is measured by
/// `diffusion-lab study edits` (docs/APPLICATIONS.md).
public class ImageOperationsTests
{
    static readonly ImageOperations Operations = new(new CascadePipeline(TinyCascadeFolder.Path, CPU));
    static readonly SamplingOptions Fast = new(4, 3.0, "none");

    static Tensor Picture(int seed) => (rand(new long[] { 1, 3, 64, 64 }, generator: new Generator((ulong)seed)) * 2 - 1);

    [Fact]
    public void Encoding_gives_the_bipartite_latent_and_decodes_to_an_image_deterministically()
    {
        using var image = Picture(1);

        var text = Operations.Text("a red circle");
        using var first = Operations.Encode(image, text, steps: 5);
        using var second = Operations.Encode(image, text, steps: 5);
        using var decoded = Operations.Decode(first);

        Assert.Equal(new long[] { 1, 16 }, first.ImageEmbedding.shape);
        Assert.Equal(new long[] { 1, 3, 64, 64 }, first.Noise.shape);
        Assert.True(first.Noise.Same(second.Noise));
        Assert.Equal(new long[] { 1, 3, 64, 64 }, decoded.shape);
    }

    [Fact]
    public void Variations_follow_their_seeds_and_differ_from_each_other()
    {
        using var image = Picture(2);

        using var a = Operations.Variations(image, null, [1, 2], Fast);
        using var b = Operations.Variations(image, null, [1, 2], Fast);

        Assert.Equal(new long[] { 2, 3, 64, 64 }, a.shape);
        Assert.True(a.Same(b));
        Assert.True((a[0] - a[1]).abs().mean().item<float>() > 1e-3);
    }

    [Fact]
    public void Interpolation_starts_at_the_first_image_latent()
    {
        using var a = Operations.Encode(Picture(3), null, 4);
        using var b = Operations.Encode(Picture(4), null, 4);

        using var strip = Operations.Interpolate(a, b, frames: 5, interpolateNoise: true);
        using var start = Operations.Decode(a);

        Assert.Equal(new long[] { 5, 3, 64, 64 }, strip.shape);
        Assert.True((strip[0] - start[0]).abs().max().item<float>() < 1e-4);
        Assert.Throws<ArgumentException>(() => Operations.Interpolate(a, b, frames: 1, interpolateNoise: false));
    }

    static readonly ContrastEditOptions QuickEdit = ContrastEditOptions.Default with { Steps = 4, MaskDraws = 2 };

    [Fact]
    public void A_text_diff_redraws_only_inside_its_mask_and_follows_its_seed()
    {
        var red = Operations.Text("a red circle")!;
        var blue = Operations.Text("a blue circle")!;
        using var image = Picture(5);

        using var first = Operations.TextDiff(image, red, blue, 0.5, QuickEdit, seed: 3);
        using var again = Operations.TextDiff(image, red, blue, 0.5, QuickEdit, seed: 3);

        Assert.Equal(new long[] { 1, 3, 64, 64 }, first.Images.shape);
        Assert.Equal(new long[] { 1, 1, 64, 64 }, first.Mask.shape);
        Assert.True(first.Images.Same(again.Images));
        float masked = first.Mask.mean().item<float>();
        Assert.True(masked > 0 && masked < 1, $"mask covers {masked:P0} of the image");
        using var outside = ((first.Images - image).abs() * (1 - first.Mask)).max();
        Assert.True(outside.item<float>() < 1e-5, $"pixels outside the mask moved by {outside.item<float>()}");
        Assert.Throws<ArgumentException>(() => Operations.TextDiff(image, red, blue, 1.5, QuickEdit, seed: 3));
    }

    [Fact]
    public void Variations_hold_the_source_layout_when_the_decoder_has_a_layout_model()
    {
        using var image = Picture(13) * 0.2;
        var holding = new SamplingOptions(4, 1.0, "static") { Layout = 1.0 };

        using var held = Operations.Variations(image, null, [1, 2], holding);
        using var free = Operations.Variations(image, null, [1, 2], holding with { Layout = 0 });

        // Held to the end (share 1), the variations' 16 px pictures are the source's (static thresholding keeps the
        // samples in [-1, 1], so the final clamp does not move them); without the hold they are not.
        int factor = Operations.Cascade.Decoder.LayoutFactor;
        using var source = nn.functional.avg_pool2d(image, factor);
        double Distance(Tensor images)
        {
            using var low = nn.functional.avg_pool2d(images, factor);
            return (low - source).abs().mean().item<float>();
        }
        Assert.True(Distance(held) < 0.01 && Distance(free) > 0.1, $"variations are {Distance(held)} from the source's layout held, {Distance(free)} free");
    }

    [Fact]
    public void Inpainting_keeps_the_known_pixels_exactly()
    {
        using var known = Picture(6).clamp(-0.9, 0.9);
        using var keep = ones(1, 1, 64, 64);
        keep[.., .., 16..48, 16..48] = 0;

        using var result = Operations.Generate("a red circle", [7], Fast, new DecodeOptions { Guide = new InpaintGuide(known, keep, Resample: 2) });

        using var kept = (result - known).abs() * keep;
        Assert.True(kept.max().item<float>() < 1e-5, $"known pixels moved by {kept.max().item<float>()}");
    }

    [Fact]
    public void Ilvr_to_the_last_step_gives_the_reference_low_frequencies()
    {
        using var reference = Picture(8) * 0.5;

        using var result = Operations.Generate("a red circle", [9], Fast, new DecodeOptions { Guide = new IlvrGuide(reference, Factor: 8, Cutoff: 0) });

        using var low = nn.functional.avg_pool2d(result, 8);
        using var referenceLow = nn.functional.avg_pool2d(reference, 8);
        Assert.True((low - referenceLow).abs().mean().item<float>() < 0.02);
    }

    [Fact]
    public void SdEdit_at_low_strength_stays_near_its_guide_and_is_deterministic()
    {
        using var guide = Picture(10) * 0.5;
        var options = new DecodeOptions { Guide = new SdEditGuide(guide, 0.1) };

        using var a = Operations.Generate("a red circle", [11], new SamplingOptions(20, 1, "none"), options);
        using var b = Operations.Generate("a red circle", [11], new SamplingOptions(20, 1, "none"), options);
        using var far = Operations.Generate("a red circle", [11], new SamplingOptions(20, 1, "none"), options with { Guide = new SdEditGuide(guide, 1.0) });

        Assert.True(a.Same(b));
        Assert.True((a - guide).abs().mean().item<float>() < (far - guide).abs().mean().item<float>());
    }

    [Fact]
    public void Clip_guidance_changes_the_sample_and_leaves_no_tensors_behind()
    {
        var guidance = Operations.ClipGuidance("a red circle", scale: 50);
        using (var warm = Operations.Generate("a red circle", [12], Fast, new DecodeOptions { Clip = guidance })) { }
        using (var warm = Operations.Generate("a red circle", [12], Fast, DecodeOptions.None)) { }

        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        float change;
        using (var guided = Operations.Generate("a red circle", [12], Fast, new DecodeOptions { Clip = guidance }))
        using (var plain = Operations.Generate("a red circle", [12], Fast, DecodeOptions.None))
        using (var scope = NewDisposeScope())
            change = (guided - plain).abs().max().item<float>();
        Assert.True(change > 1e-4);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(before, after);
    }

    [Theory]
    [InlineData("sdedit", "strength = 1.5; allowed 0.05 to 1")]
    [InlineData("ilvr", "factor N = 3; allowed a divisor of 64")]
    [InlineData("mask", "it must be one channel of 64x64")]
    [InlineData("resample", "resample count = 0; allowed 1 to 20")]
    public void Edits_outside_their_ranges_are_rejected_with_the_range(string which, string expected)
    {
        using var image = Picture(13);
        SamplingGuide edit = which switch
        {
            "sdedit" => new SdEditGuide(image, 1.5),
            "ilvr" => new IlvrGuide(image, 3, 0),
            "mask" => new InpaintGuide(image, ones(1, 1, 32, 32), 2),
            _ => new InpaintGuide(image, ones(1, 1, 64, 64), 0),
        };

        var error = Assert.Throws<ArgumentException>(() => Operations.Generate("a red circle", [1], Fast, new DecodeOptions { Guide = edit }));

        Assert.Contains(expected, error.Message);
    }
}

static class TensorComparison
{
    public static bool Same(this Tensor a, Tensor b)
    {
        using var difference = (a - b).abs().max();
        return difference.item<float>() == 0;
    }
}
