using DiffusionCluster.Shapes;

namespace DiffusionCluster.Shapes.Tests;

public class SceneParserTests
{
    [Theory]
    [InlineData(64, 400)]
    [InlineData(256, 100)]
    public void The_parser_reads_ground_truth_renders_at_least_99_percent_correctly(int size, int scenes)
    {
        int correct = 0;
        var failures = new List<string>();
        for (int seed = 0; seed < scenes; seed++)
        {
            var caption = Captioner.Describe(SceneGenerator.Sample(seed, seed % 2 == 0 ? Split.Train : Split.HeldOut), new Random(seed));
            var parsed = SceneParser.Parse(Renderer.Render(caption.Scene, size), size);
            var score = CaptionScore.Of(caption, parsed);
            if (score.FullyCorrect && parsed.Background == caption.Scene.Background) correct++;
            else failures.Add($"{caption.Scene.Summary} -> {string.Join("; ", parsed.Objects.Select(o => $"{o.Size} {o.Colour} {o.Shape} {o.Position} fit {o.Fit:F2}"))}");
        }

        Assert.True(correct >= 0.99 * scenes, $"{correct}/{scenes} correct; first failures:\n{string.Join("\n", failures.Take(5))}");
    }

    [Fact]
    public void An_empty_background_parses_to_no_objects()
    {
        var scene = new Scene("gray", [new SceneObject(ShapeKind.Circle, "red", SizeClass.Small, Position.Center)]);
        var pixels = Renderer.Render(new Scene("gray", []), 64);

        var parsed = SceneParser.Parse(pixels, 64);

        Assert.Equal("gray", parsed.Background);
        Assert.Empty(parsed.Objects);
        Assert.False(CaptionScore.Of(Captioner.Describe(scene, new Random(0)), parsed).FullyCorrect);
    }

    [Fact]
    public void A_wrong_shape_is_scored_as_wrong_shape_only()
    {
        var want = new Scene("white", [new SceneObject(ShapeKind.Star, "red", SizeClass.Large, Position.TopLeft)]);
        var drawn = new Scene("white", [new SceneObject(ShapeKind.Circle, "red", SizeClass.Large, Position.TopLeft)]);

        var score = CaptionScore.Of(Captioner.Describe(want, new Random(1)), SceneParser.Parse(Renderer.Render(drawn, 64), 64));

        Assert.Equal((1, 1, 0, 1, 1, true, false), (score.Objects, score.ColourFound, score.ShapeCorrect, score.SizeCorrect, score.PositionCorrect, score.CountCorrect, score.FullyCorrect));
    }
}
