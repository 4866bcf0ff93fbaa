using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Shapes;

namespace DiffusionCluster.Grains.Tests;

/// Image operations as cluster requests: each runs on the silos hosting its stages, skips the stages it
/// does not need, is deterministic under its seed, and bad settings fail at the edge naming the range.
public sealed class ImageEditTests : IAsyncLifetime
{
    StageCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await StageCluster.Start(["text,prior", "decoder64", "sr256,sr1024"]);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    static WireTensor Picture(float value, int channels = 3) =>
        new([1, channels, 64, 64], Enumerable.Range(0, channels * 64 * 64).Select(i => value * ((i % 7) / 7f)).ToArray());

    static WireTensor Render(Scene scene) => new([1, 3, 64, 64], Renderer.Render(scene, 64).Select(v => 2 * v - 1).ToArray());

    static GenerationSpec Edit(ImageOperation operation, string prompt = "a small red circle on a white background", int size = 64) =>
        Specs.Quick(size: size) with { Prompt = prompt, Operation = operation };

    [Fact]
    public async Task An_uncaptioned_variation_is_drawn_from_a_caption_read_from_its_image_and_follows_its_seed()
    {
        var scene = new Scene("white", [new SceneObject(ShapeKind.Circle, "red", SizeClass.Large, Position.Center)]);
        var spec = Edit(new VariationOperation { Image = Render(scene) }, prompt: "");

        var a = await _cluster.Request().Generate(spec);
        var b = await _cluster.Request().Generate(spec);
        var other = await _cluster.Request().Generate(spec with { Seed = 2 });

        Assert.Equal([CascadeStage.Text, CascadeStage.Decoder64], a.Stages.Select(s => s.Stage));
        Assert.Equal("a large red circle in the center on a white background", a.Caption?.Caption);
        Assert.Equal(a.Png, b.Png);
        Assert.NotEqual(a.Png, other.Png);
    }

    [Fact]
    public async Task A_variation_of_an_image_with_nothing_to_caption_is_drawn_from_z_i_alone()
    {
        var blank = new WireTensor([1, 3, 64, 64], Enumerable.Repeat(-1f, 3 * 64 * 64).ToArray());

        var result = await _cluster.Request().Generate(Edit(new VariationOperation { Image = blank }, prompt: ""));

        Assert.Equal([CascadeStage.Text, CascadeStage.Decoder64], result.Stages.Select(s => s.Stage));
        Assert.Null(result.Caption);
    }

    [Fact]
    public async Task A_captioned_variation_at_256_skips_the_prior_and_upscales()
    {
        var result = await _cluster.Request().Generate(Edit(new VariationOperation { Image = Picture(0.8f) }, size: 256));

        Assert.Equal([CascadeStage.Text, CascadeStage.Decoder64, CascadeStage.Sr256], result.Stages.Select(s => s.Stage));
        using var image = Png.Decode(result.Png);
        Assert.Equal(new long[] { 3, 256, 256 }, image.shape);
    }

    [Fact]
    public async Task Inpainting_keeps_the_unmasked_pixels()
    {
        var keep = new WireTensor([1, 1, 64, 64], Enumerable.Range(0, 64 * 64).Select(i => i < 32 * 64 ? 1f : 0f).ToArray());
        var spec = Edit(new InpaintOperation { Image = Picture(0.8f), Mask = keep, Resample = 2 });

        var result = await _cluster.Request().Generate(spec);

        Assert.Equal([CascadeStage.Text, CascadeStage.Prior, CascadeStage.Decoder64], result.Stages.Select(s => s.Stage));
        using var image = Png.Decode(result.Png);
        using var expected = TorchSharp.torch.tensor(spec.Operation!.Image.Values, new long[] { 3, 64, 64 });
        // The kept top half comes back as sent, to PNG rounding.
        using var difference = (image[.., ..32, ..] - expected[.., ..32, ..]).abs().max();
        Assert.True(difference.item<float>() <= 1.0 / 127.5 + 1e-6, $"kept pixels moved by {difference.item<float>()}");
    }

    [Fact]
    public async Task A_text_diff_encodes_both_captions_and_an_interpolation_returns_a_strip()
    {
        var diff = Edit(new TextDiffOperation { Image = Picture(0.8f), SourceCaption = "a small red circle on a white background", Amount = 0.3, InversionSteps = 5 },
            prompt: "a small blue circle on a white background");
        var strip = Edit(new InterpolateOperation { Image = Picture(0.8f), Second = Picture(-0.5f), Frames = 3, InversionSteps = 5 }, prompt: "");

        var edited = await _cluster.Request().Generate(diff);
        var frames = await _cluster.Request().Generate(strip);

        Assert.Equal([CascadeStage.Text, CascadeStage.Text, CascadeStage.Decoder64], edited.Stages.Select(s => s.Stage));
        using var image = Png.Decode(frames.Png);
        Assert.Equal(new long[] { 3, 64, 192 }, image.shape);
    }

    [Fact]
    public async Task A_text_diff_of_short_captions_draws_where_the_image_has_its_objects()
    {
        var scene = new Scene("white", [
            new SceneObject(ShapeKind.Circle, "red", SizeClass.Large, Position.TopLeft),
            new SceneObject(ShapeKind.Star, "blue", SizeClass.Small, Position.BottomRight),
        ]);
        var diff = Edit(new TextDiffOperation { Image = Render(scene), SourceCaption = "a red circle and a blue star", InversionSteps = 5 },
            prompt: "a green circle and a blue star");

        var edited = await _cluster.Request().Generate(diff);

        Assert.Equal(Captioner.Canonical(scene with { Objects = [scene.Objects[0] with { Colour = "green" }, scene.Objects[1]] }), edited.Caption?.Caption);
    }

    [Fact]
    public async Task An_attribute_manipulation_runs_on_the_decoder_and_checks_the_attribute_name()
    {
        var attribute = new AttributeOperation { Image = Picture(0.8f), Attribute = "red", Amount = 0.5, InversionSteps = 5 };
        var spec = Edit(attribute, prompt: "");

        var result = await _cluster.Request().Generate(spec);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _cluster.Request().Generate(spec with { Operation = attribute with { Attribute = "tall" } }));

        Assert.Equal([CascadeStage.Decoder64], result.Stages.Select(s => s.Stage));
        Assert.Contains("unknown attribute \"tall\"; known: circle, red", error.Message);
    }

    [Theory]
    [InlineData("strength", "strength = 1.5; allowed 0.05 to 1")]
    [InlineData("factor", "ILVR factor N = 5; allowed 1, 2, 4, 8, 16 or 32")]
    [InlineData("mask", "the mask is [1, 1, 32, 32]; it must be [1, 1, 64, 64]")]
    [InlineData("resample", "resample = 30; allowed 1 to 20")]
    [InlineData("prompt", "prompt is empty")]
    public async Task Bad_settings_fail_at_the_edge_with_the_range(string which, string expected)
    {
        ImageOperation edit = which switch
        {
            "strength" => new SdEditOperation { Image = Picture(0.5f), Strength = 1.5 },
            "factor" => new IlvrOperation { Image = Picture(0.5f), Factor = 5 },
            "mask" => new InpaintOperation { Image = Picture(0.5f), Mask = new WireTensor([1, 1, 32, 32], new float[32 * 32]) },
            "resample" => new InpaintOperation { Image = Picture(0.5f), Mask = Picture(1f, channels: 1), Resample = 30 },
            _ => new SdEditOperation { Image = Picture(0.5f) },
        };
        var spec = Specs.Quick() with { Prompt = which == "prompt" ? " " : "a red circle", Operation = edit };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _cluster.Client.Generate(spec));

        Assert.Contains(expected, error.Message);
    }
}
