using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Trainers;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

/// A training batch's images are its scenes' renders, in order, whichever core drew each one.
public sealed class ShapesBatchTests
{
    [Fact]
    public void Parallel_rendered_images_match_each_scene_rendered_alone()
    {
        using var generator = new Generator(11);
        var batch = ShapesBatch.Draw(24, generator);
        using var images = batch.Images(32, CPU);

        Assert.Equal(new long[] { 24, 3, 32, 32 }, images.shape);
        for (int i = 0; i < batch.Scenes.Count; i++)
        {
            using var alone = Renderer.RenderTensor(batch.Scenes[i], 32);
            using var row = images[i];
            Assert.True(row.eq(alone).all().item<bool>(), $"image {i} differs from its scene's render");
        }
    }
}
