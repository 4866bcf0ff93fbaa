using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Trainers;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

/// The hard-negative batches of `train clip-image`: within a group only the shapes (and their words) may differ.
public sealed class ShapeVariantsTests
{
    static readonly HashSet<string> ShapeWords =
        ["circle", "disc", "square", "triangle", "star", "ring", "donut", "diamond", "rhombus", "hexagon", "cross", "plus"];

    [Fact]
    public void Each_group_differs_only_in_shapes_and_stays_in_the_train_split()
    {
        using var generator = new Generator(7);
        var batch = ShapesBatch.DrawShapeVariants(64, 4, generator);

        Assert.Equal(64, batch.Scenes.Count);
        for (int g = 0; g < 64; g += 4)
        {
            var group = batch.Scenes.Skip(g).Take(4).ToList();
            var first = group[0];
            Assert.Equal(4, group.Select(s => string.Join(",", s.Objects.Select(o => o.Shape))).Distinct().Count());
            foreach (var scene in group)
            {
                Assert.DoesNotContain(scene.Objects, SceneGenerator.IsHeldOut);
                Assert.Equal(first.Background, scene.Background);
                Assert.Equal(first.Objects.Select(o => o with { Shape = ShapeKind.Circle }), scene.Objects.Select(o => o with { Shape = ShapeKind.Circle }));
            }
            var words = batch.Captions.Skip(g).Take(4).Select(c => c.Split(' ')).ToList();
            foreach (var other in words.Skip(1))
            {
                Assert.Equal(words[0].Length, other.Length);
                var differing = words[0].Zip(other).Where(p => p.First != p.Second).ToList();
                Assert.NotEmpty(differing);
                Assert.All(differing, p => Assert.True(ShapeWords.Contains(p.First) && ShapeWords.Contains(p.Second), $"{p.First} / {p.Second}"));
            }
        }
    }

    [Fact]
    public void The_batch_is_a_function_of_the_generator()
    {
        using var a = new Generator(3);
        using var b = new Generator(3);
        Assert.Equal(ShapesBatch.DrawShapeVariants(8, 4, a).Captions, ShapesBatch.DrawShapeVariants(8, 4, b).Captions);
    }

    [Theory]
    [InlineData(10, 4)]
    [InlineData(8, 1)]
    [InlineData(16, 8)]
    public void A_batch_that_is_not_whole_groups_is_refused(int batch, int group)
    {
        using var generator = new Generator(1);
        var error = Assert.Throws<ArgumentException>(() => ShapesBatch.DrawShapeVariants(batch, group, generator));
        Assert.Contains($"({batch})", error.Message);
    }
}
