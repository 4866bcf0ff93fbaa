using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Trainers;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

/// Where the SR recipes' residual_scale comes from: the RMS of exact render minus bicubic upsampling of the exact
/// lower-resolution render, over training scenes (the top-left 256 px window of each). The recipe's scale should
/// bring that small residual to roughly an image's spread, so it is not lost under the diffusion noise.
public class ResidualScaleTests
{
    [Theory]
    [InlineData(64, 256, 0.02, 0.08)]
    [InlineData(256, 1024, 0.007, 0.03)]
    public void The_recipe_scales_the_training_residual_to_about_an_images_spread(int low, int high, double minRms, double maxRms)
    {
        var config = high == 256 ? CascadeDefaults.Sr256 : CascadeDefaults.Sr1024;
        var batch = ShapesBatch.Draw(16, new Generator(7));
        double sumSquares = 0;
        foreach (var scene in batch.Scenes)
        {
            using var scope = NewDisposeScope();
            var truth = Renderer.RenderTensor(scene, high, 0, 0, 256, 256).unsqueeze(0);
            var lowRes = Renderer.RenderTensor(scene, low, 0, 0, 256 * low / high, 256 * low / high).unsqueeze(0);
            sumSquares += (truth - Upsampling.Bicubic(lowRes, 256)).pow(2).mean().item<float>();
        }
        double rms = Math.Sqrt(sumSquares / batch.Scenes.Count);

        Assert.InRange(rms, minRms, maxRms);
        Assert.InRange(rms * config.ResidualScale, 0.15, 0.6);
    }
}
