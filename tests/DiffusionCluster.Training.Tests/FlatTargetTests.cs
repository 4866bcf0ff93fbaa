using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Trainers;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

/// A generated picture in its scene's flat colours: every pixel one of the scene's colours, the outlines where the
/// picture has them.
public class FlatTargetTests
{
    static readonly Scene Striped = new("white",
    [
        new SceneObject(ShapeKind.Circle, "red", SizeClass.Large, Position.Center, Texture.Stripes),
        new SceneObject(ShapeKind.Square, "blue", SizeClass.Small, Position.TopLeft),
    ]);

    [Fact]
    public void Every_pixel_is_one_of_the_scenes_colours()
    {
        using var picture = (Renderer.RenderTensor(Striped, 64) + 0.2 * randn(3, 64, 64, generator: new Generator(1))).clamp(-1, 1);

        using var flat = FlatTarget.Of(picture, Striped);

        var matched = InSceneColours(flat);
        Assert.True(matched.all().item<bool>(), $"{64 * 64 - matched.sum().item<long>()} pixels are not one of the scene's colours");
    }

    /// Which pixels of [3, H, W] are one of the striped scene's colours: white, red, red's shade, blue.
    static Tensor InSceneColours(Tensor image) => new[] { (250, 250, 250), (220, 40, 40), (121, 22, 22), (40, 80, 220) }
        .Select(c => (image - tensor(new[] { c.Item1 / 127.5f - 1, c.Item2 / 127.5f - 1, c.Item3 / 127.5f - 1 }).view(3, 1, 1)).abs().amax(0).lt(1e-3))
        .Aggregate((a, b) => a | b);

    [Fact]
    public void A_render_is_its_own_flat_target_but_for_its_anti_aliased_outlines()
    {
        using var render = Renderer.RenderTensor(Striped, 256);

        using var flat = FlatTarget.Of(render, Striped);

        var changed = (flat - render).abs().amax(0).gt(1e-4);
        var mixed = ~InSceneColours(render);
        Assert.InRange(mixed.to_type(ScalarType.Float32).mean().item<float>(), 0.001f, 0.05f);
        // Only mixed pixels change, and most of them do (those within 1e-4 of a colour are left).
        Assert.False((changed & ~mixed).any().item<bool>());
        Assert.True(changed.sum().item<long>() > mixed.sum().item<long>() / 2, $"{changed.sum().item<long>()} of {mixed.sum().item<long>()} mixed pixels changed");
    }

    [Fact]
    public void A_blurred_noisy_enlargement_snaps_back_to_the_render_but_within_a_pixel_or_two_of_its_outlines()
    {
        using var scope = NewDisposeScope();
        var blurred = Upsampling.Bicubic(Renderer.RenderTensor(Striped, 64).unsqueeze(0), 256)[0];
        var picture = (blurred + 0.05 * randn(3, 256, 256, generator: new Generator(2))).clamp(-1, 1);
        var render = Renderer.RenderTensor(Striped, 256);

        var flat = FlatTarget.Of(picture, Striped);

        // Pixels that disagree with the render lie where the render itself is mixed or next to such a pixel.
        var wrong = (flat - render).abs().amax(0).gt(0.1).to_type(ScalarType.Float32);
        var outline = (~InSceneColours(render)).to_type(ScalarType.Float32);
        var nearOutline = nn.functional.max_pool2d(outline.view(1, 1, 256, 256), 7, stride: 1, padding: 3).view(256, 256).gt(0);
        Assert.True(wrong.sum().item<float>() > 0, "a blurred enlargement should differ from the render somewhere");
        Assert.Equal(0, (wrong.gt(0) & ~nearOutline).sum().item<long>());
    }
}
