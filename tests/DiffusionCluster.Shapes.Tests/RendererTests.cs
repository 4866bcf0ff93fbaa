using DiffusionCluster.Shapes;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Shapes.Tests;

public class RendererTests
{
    [Fact]
    public void The_same_seed_gives_the_same_scene_and_pixels()
    {
        var a = SceneGenerator.Sample(42, Split.Train);
        var b = SceneGenerator.Sample(42, Split.Train);

        Assert.Equal(a.Summary, b.Summary);
        Assert.Equal(Renderer.Render(a, 64), Renderer.Render(b, 64));
    }

    [Theory]
    [InlineData(256)]
    [InlineData(1024)]
    public void Downsampling_a_high_resolution_render_matches_the_64_pixel_render(int size)
    {
        for (int seed = 0; seed < 5; seed++)
        {
            var scene = SceneGenerator.Sample(seed, Split.Train);
            using var high = Renderer.RenderTensor(scene, size).unsqueeze(0);
            using var low = Renderer.RenderTensor(scene, 64).unsqueeze(0);
            using var down = F.avg_pool2d(high, size / 64);

            // Mean error in [-1, 1] units; the coverage ramp is one pixel wide at each resolution.
            using var error = (down - low).abs().mean();
            Assert.True(error.item<float>() < 0.02, $"seed {seed}: mean error {error.item<float>()}");
        }
    }

    [Fact]
    public void A_crop_is_the_same_window_of_the_full_render()
    {
        var scene = SceneGenerator.Sample(7, Split.Train);
        using var full = Renderer.RenderTensor(scene, 256);
        using var crop = Renderer.RenderTensor(scene, 256, left: 64, top: 96, width: 64, height: 32);

        using var window = full[.., 96..128, 64..128];
        Assert.Equal(0, (window - crop).abs().max().item<float>());
    }

    [Fact]
    public void A_crop_outside_the_image_is_rejected()
    {
        var scene = SceneGenerator.Sample(1, Split.Train);

        var error = Assert.Throws<ArgumentException>(() => Renderer.Render(scene, 64, left: 40, width: 32));

        Assert.Contains("does not fit in a 64x64 image", error.Message);
    }

    [Fact]
    public void Object_boxes_hold_every_drawn_pixel_and_little_else()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var scene = SceneGenerator.Sample(seed, Split.Train);
            var pixels = Renderer.Render(scene, 64);
            var boxes = Renderer.ObjectBoxes(scene, 64);
            var empty = Renderer.Render(scene with { Objects = [] }, 64);
            int plane = 64 * 64;
            for (int i = 0; i < plane; i++)
            {
                bool drawn = pixels[i] != empty[i] || pixels[plane + i] != empty[plane + i] || pixels[2 * plane + i] != empty[2 * plane + i];
                if (drawn) Assert.Equal(1f, boxes[i]);
            }
            // Each box is the object's extent, 2 x radius, plus at most two pixels a side for the edge ramp and rounding.
            double most = scene.Objects.Sum(o => Math.Pow(2 * Geometry.Radius(o.Size) * 64 + 4, 2));
            Assert.InRange(boxes.Sum(), 1, most);
        }
    }

    [Fact]
    public void Objects_are_anti_aliased_not_binary()
    {
        var scene = new Scene("white", [new SceneObject(ShapeKind.Circle, "blue", SizeClass.Large, Position.Center)]);
        var pixels = Renderer.Render(scene, 64);

        Assert.Contains(pixels.Take(64 * 64), v => v > 0.2f && v < 0.9f);
    }
}

public class SplitTests
{
    [Fact]
    public void Training_scenes_never_contain_a_held_out_combination()
    {
        for (int seed = 0; seed < 500; seed++)
            Assert.DoesNotContain(SceneGenerator.Sample(seed, Split.Train).Objects, SceneGenerator.IsHeldOut);
    }

    [Fact]
    public void Held_out_scenes_always_contain_one()
    {
        for (int seed = 0; seed < 200; seed++)
            Assert.Contains(SceneGenerator.Sample(seed, Split.HeldOut).Objects, SceneGenerator.IsHeldOut);
    }

    [Fact]
    public void Every_colour_shape_and_position_still_occurs_in_training()
    {
        var objects = Enumerable.Range(0, 2000).SelectMany(s => SceneGenerator.Sample(s, Split.Train).Objects).ToList();

        Assert.Equal(Palette.Objects.Length, objects.Select(o => o.Colour).Distinct().Count());
        Assert.Equal(Enum.GetValues<ShapeKind>().Length, objects.Select(o => o.Shape).Distinct().Count());
        Assert.Equal(9, objects.Select(o => o.Position).Distinct().Count());
    }

    [Fact]
    public void Scenes_have_one_to_three_objects_in_distinct_cells_with_distinct_colours()
    {
        for (int seed = 0; seed < 300; seed++)
        {
            var scene = SceneGenerator.Sample(seed, Split.Train);
            scene.Validate();
            Assert.Equal(scene.Objects.Count, scene.Objects.Select(o => o.Colour).Distinct().Count());
        }
    }
}
