using DiffusionCluster.Shapes;
using DiffusionCluster.Lab.Studies;
using static TorchSharp.torch;

namespace DiffusionCluster.Lab.Tests;

/// The measurements of `study layout`, checked on inputs whose answer is known.
public class LayoutStudyTests
{
    [Fact]
    public void The_strongest_cell_of_an_exact_render_is_where_its_object_stands()
    {
        foreach (var position in Enum.GetValues<Position>())
        {
            var scene = new Scene("beige", [new SceneObject(ShapeKind.Star, "blue", SizeClass.Small, position)]);
            using var render = Renderer.RenderTensor(scene, 64);

            Assert.Equal((int)position, LayoutStudy.StrongestCell(render, scene.Background));
        }
    }

    [Fact]
    public void Shapes_are_read_from_exact_renders_and_not_from_a_blank_picture()
    {
        var scene = new Scene("white", [
            new SceneObject(ShapeKind.Star, "red", SizeClass.Large, Position.TopLeft),
            new SceneObject(ShapeKind.Cross, "blue", SizeClass.Medium, Position.BottomRight)]);
        var wrongShapes = scene with { Objects = [scene.Objects[0] with { Shape = ShapeKind.Circle }, scene.Objects[1]] };
        using var render = Renderer.RenderTensor(scene, 64);
        using var blank = Renderer.RenderTensor(scene with { Objects = [] }, 64);

        Assert.Equal(2, LayoutStudy.ShapesReadCorrectly(scene, SceneParser.Parse(render)));
        Assert.Equal(1, LayoutStudy.ShapesReadCorrectly(wrongShapes, SceneParser.Parse(render)));
        Assert.Equal(0, LayoutStudy.ShapesReadCorrectly(scene, SceneParser.Parse(blank)));
    }

    [Fact]
    public void The_linear_probe_reads_a_place_that_features_encode_and_not_one_they_do_not()
    {
        // Features: a one-hot of the place plus noise (readable), or noise alone (chance).
        manual_seed(3);
        using var places = randint(0, 9, new long[] { 400 }, dtype: int64);
        using var encoded = nn.functional.one_hot(places, 9).to(float32) + 0.1f * randn(400, 9);
        using var noise = randn(400, 9);
        var truth = places[300..].data<long>().ToArray();

        using var readable = LayoutStudy.FitProbe(encoded[..300], places[..300]);
        using var blind = LayoutStudy.FitProbe(noise[..300], places[..300]);

        Assert.StartsWith("100.0%", LayoutStudy.Row("encoded", readable, encoded[300..], truth)[1]);
        Assert.InRange(double.Parse(LayoutStudy.Row("noise", blind, noise[300..], truth)[1].Split('%')[0]), 0, 30);
    }

    [Fact]
    public void The_two_object_probe_reads_places_and_colours_that_features_encode_and_not_from_noise()
    {
        // Features: the scene's own colour-by-place grid plus noise (readable), or noise alone (chance).
        manual_seed(4);
        var scenes = Enumerable.Range(0, 400).Select(s => SceneGenerator.Sample(s, Split.Train, 2)).ToList();
        using var targets = TwoObjectPlaceProbe.Targets(scenes);
        using var encoded = targets.to(float32) + 0.05f * randn(400, targets.shape[1]);
        using var noise = randn(400, targets.shape[1]);
        var heldOut = scenes[300..];

        using var readable = LayoutStudy.FitTargets(encoded[..300], targets[..300]);
        using var blind = LayoutStudy.FitTargets(noise[..300], targets[..300]);

        Assert.Equal((100, 200), TwoObjectPlaceProbe.Score(readable, encoded[300..], heldOut));
        var (both, placed) = TwoObjectPlaceProbe.Score(blind, noise[300..], heldOut);
        Assert.InRange(both, 0, 15);
        Assert.InRange(placed, 0, 50);
    }
}
