using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Shapes;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

/// The image captioner reads a render's scene back as the caption the decoder reads best, keeps no more objects than
/// the world draws, and gives no caption where it finds no object.
public sealed class ImageCaptionerTests
{
    static Tensor Image(Scene scene) => Renderer.RenderTensor(scene, 64);

    [Fact]
    public void A_render_is_read_back_as_its_canonical_caption()
    {
        var scene = new Scene("white", [
            new SceneObject(ShapeKind.Star, "blue", SizeClass.Large, Position.TopLeft),
            new SceneObject(ShapeKind.Square, "orange", SizeClass.Medium, Position.BottomRight),
        ]);
        using var image = Image(scene);

        Assert.Equal(Captioner.Canonical(scene), new ImageCaptioner(World.Shapes).Caption(image));
    }

    [Fact]
    public void Only_as_many_objects_as_the_world_draws_are_captioned_the_largest_first()
    {
        var scene = new Scene("black", [
            new SceneObject(ShapeKind.Circle, "red", SizeClass.Large, Position.Center),
            new SceneObject(ShapeKind.Square, "green", SizeClass.Small, Position.TopLeft),
        ]);
        using var image = Image(scene);

        var caption = new ImageCaptioner(World.Shapes with { MaxObjects = 1 }).Caption(image);

        Assert.Equal(Captioner.Canonical(scene with { Objects = [scene.Objects[0]] }), caption);
    }

    [Fact]
    public void An_image_without_objects_has_no_caption()
    {
        using var image = full(new long[] { 3, 64, 64 }, -1f);

        Assert.Null(new ImageCaptioner(World.Shapes).Caption(image));
    }
}
