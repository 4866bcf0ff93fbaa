using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Trainers;
using Xunit;

namespace DiffusionCluster.Training.Tests;

public sealed class CropSamplerTests
{
    /// sr256 (64 px crops of 256 px renders) and sr1024 (128 px crops of 1024 px renders), 4x each.
    public static TheoryData<int, int> Stages => new() { { 256, 64 }, { 1024, 128 } };

    [Theory]
    [MemberData(nameof(Stages))]
    public void Most_crops_show_an_object_and_every_corner_is_in_range(int size, int crop)
    {
        const int factor = 4, scenes = 120;
        int maxCorner = (size - crop) / factor, sampled = 0, uniform = 0;
        using var generator = new TorchSharp.torch.Generator(3);
        var random = new Random(3);
        for (int i = 0; i < scenes; i++)
        {
            var scene = SceneGenerator.Sample(i, Split.Train);
            var (x, y) = CropSampler.Corner(scene, size, crop, factor, generator);
            Assert.InRange(x, 0, maxCorner);
            Assert.InRange(y, 0, maxCorner);
            if (ShowsDetail(scene, size, x * factor, y * factor, crop)) sampled++;
            if (ShowsDetail(scene, size, random.Next(maxCorner + 1) * factor, random.Next(maxCorner + 1) * factor, crop)) uniform++;
        }
        // Measured: 90% of sampled crops against 38-45% of uniform ones.
        Assert.True(sampled >= 0.8 * scenes, $"{sampled} of {scenes} sampled crops show more than flat colour");
        Assert.True(sampled > uniform + 0.25 * scenes, $"sampled {sampled} against uniform {uniform} of {scenes}");
    }

    [Fact]
    public void The_same_generator_seed_gives_the_same_corners()
    {
        var scene = SceneGenerator.Sample(42, Split.Train);
        (int, int)[] Corners()
        {
            using var generator = new TorchSharp.torch.Generator(9);
            return Enumerable.Range(0, 20).Select(_ => CropSampler.Corner(scene, 256, 64, 4, generator)).ToArray();
        }
        var first = Corners();
        Assert.Equal(first, Corners());
        Assert.True(first.Distinct().Count() > 10, "corners should vary from draw to draw");
    }

    static bool ShowsDetail(Scene scene, int size, int left, int top, int crop)
    {
        using var window = Renderer.RenderTensor(scene, size, left, top, crop, crop);
        return (window.amax() - window.amin()).item<float>() > 0.02f;
    }
}
