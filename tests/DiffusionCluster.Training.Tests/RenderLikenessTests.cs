using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

/// The image-quality report's measures against what is known of their inputs: a render scores as a render, and each
/// defect users see (blurred edges, a grid over the background, a frame band, noise) moves its own measure.
public sealed class RenderLikenessTests
{
    static readonly Scene Scene = new("beige",
    [
        new SceneObject(ShapeKind.Circle, "red", SizeClass.Large, Position.Left),
        new SceneObject(ShapeKind.Square, "blue", SizeClass.Medium, Position.BottomRight),
    ]);
    const int Size = 256;

    static Tensor Render() => Renderer.RenderTensor(Scene, Size);

    [Fact]
    public void A_render_of_the_scene_scores_as_a_render()
    {
        using var render = Render();

        var likeness = RenderLikeness.Measure(render, Scene);

        Assert.Equal((0.0, 0.0, 1.0), (likeness.Spread, likeness.BorderBand, likeness.EdgeWidth));
        Assert.True(likeness.PeriodicPeak < 0.01, $"peak {likeness.PeriodicPeak} dB");
        // The object pixels are where a pixel's centre is inside; the drawn ones, where its colour is far from the
        // background: they differ on the anti-aliased outline only.
        Assert.InRange(likeness.OutlineIou, 0.97, 1.0);
    }

    [Fact]
    public void Blurred_outlines_are_wider_than_the_render_s_and_leave_the_background_flat()
    {
        using var render = Render();
        // A 9 px box blur: the render's one-pixel ramp becomes about seven pixels of 10-90% rise.
        using var blurred = nn.functional.avg_pool2d(nn.functional.pad(render.unsqueeze(0), [4, 4, 4, 4], TorchSharp.PaddingModes.Replicate), 9, stride: 1)[0];

        var likeness = RenderLikeness.Measure(blurred, Scene);

        Assert.InRange(likeness.EdgeWidth, 4, 12);
        Assert.True(likeness.Spread < 0.5, $"spread {likeness.Spread}");
        Assert.InRange(likeness.OutlineIou, 0.8, 0.95);
    }

    [Fact]
    public void A_faint_grid_over_the_background_shows_as_spread_and_a_spectral_peak()
    {
        using var render = Render();
        // +-4 levels in a checkerboard of 8 px cells (a 16 px period), as the SR stages magnify the base's noise.
        using var cells = floor(arange(Size, float32) / 8) % 2;
        using var grid = (cells.unsqueeze(0) + cells.unsqueeze(1)) % 2 * 2 - 1;
        using var gridded = render + grid * (8.0 / 255);

        var likeness = RenderLikeness.Measure(gridded, Scene);

        Assert.InRange(likeness.Spread, 3.9, 4.1);
        Assert.True(likeness.PeriodicPeak > 20, $"peak {likeness.PeriodicPeak} dB");
        Assert.True(likeness.EdgeWidth < 1.5, $"edge width {likeness.EdgeWidth}");
    }

    [Fact]
    public void Noise_spreads_the_background_without_a_spectral_peak()
    {
        using var render = Render();
        using var noisy = render + randn([3, Size, Size], generator: new TorchSharp.torch.Generator(5)) * (6.0 / 255);

        var likeness = RenderLikeness.Measure(noisy, Scene);

        Assert.InRange(likeness.Spread, 2.5, 3.5);
        Assert.True(likeness.PeriodicPeak < 6, $"peak {likeness.PeriodicPeak} dB");
    }

    [Fact]
    public void A_frame_darker_than_the_background_is_a_border_band()
    {
        using var render = Render();
        using var frame = ones(Size, Size);
        frame[.., ..8] = 0;
        frame[..8, ..] = 0;
        frame[.., (Size - 8)..] = 0;
        frame[(Size - 8).., ..] = 0;
        using var framed = render - (1 - frame) * (20.0 / 255);

        var likeness = RenderLikeness.Measure(framed, Scene);

        Assert.InRange(likeness.BorderBand, 9.5, 10.5); // 10 levels: 20 of the -1..1 range's 510, over the whole band
    }
}
