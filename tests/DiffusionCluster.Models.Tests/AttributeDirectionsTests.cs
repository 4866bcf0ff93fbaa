using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

/// DiffAE's attribute directions: fitting recovers a planted direction, moving stays on the decoder's
/// sphere, names are checked, and a manipulation by 0 is the reconstruction.
public class AttributeDirectionsTests
{
    [Fact]
    public void Fitting_recovers_the_direction_that_separates_the_labels()
    {
        var generator = new Generator(5);
        using var truth = nn.functional.normalize(randn(new long[] { 32 }, generator: generator), dim: 0);
        using var points = randn(new long[] { 400, 32 }, generator: generator);
        using var labels = (points.matmul(truth) > 0.8).to(float32);

        var (direction, accuracy) = AttributeDirections.Fit(points, labels);

        using (direction)
        {
            Assert.True(direction.dot(truth).item<float>() > 0.9, $"cosine to the planted direction {direction.dot(truth).item<float>():F3}");
            Assert.True(accuracy > 0.95, $"balanced accuracy {accuracy:P1}");
        }
    }

    [Fact]
    public void Fitting_needs_both_kinds_of_example()
    {
        var error = Assert.Throws<ArgumentException>(() => AttributeDirections.Fit(randn(10, 4), ones(10)));

        Assert.Contains("both kinds", error.Message);
    }

    [Fact]
    public void Moving_keeps_the_embedding_on_the_sphere_and_names_are_checked()
    {
        var directions = AttributeDirections.Load(TinyCascadeFolder.Path);
        using var z = ClipSpace.Normalise(randn(1, 16));

        using var moved = directions.Move(z, "RED", 0.5);

        Assert.Equal(4.0, moved.norm().item<float>(), 3);
        Assert.True(moved.matmul(directions["red"]).item<float>() > z.matmul(directions["red"]).item<float>());
        var unknown = Assert.Throws<ArgumentException>(() => directions["tall"]);
        Assert.Equal("unknown attribute \"tall\"; known: circle, red", unknown.Message);
        Assert.Throws<ArgumentException>(() => directions.Move(z, "red", 3));
    }

    [Fact]
    public void A_manipulation_by_zero_leaves_the_image_as_it_is()
    {
        var operations = new ImageOperations(new CascadePipeline(TinyCascadeFolder.Path, CPU));
        var directions = AttributeDirections.Load(TinyCascadeFolder.Path);
        using var image = rand(new long[] { 1, 3, 64, 64 }, generator: new Generator(6)) * 2 - 1;
        var options = ContrastEditOptions.Default with { Steps = 4, MaskDraws = 2 };

        using var unmoved = operations.Manipulate(image, null, directions, "circle", 0, options, seed: 1);
        using var moved = operations.Manipulate(image, null, directions, "circle", 1, options, seed: 1);

        Assert.Equal(0f, unmoved.Mask.max().item<float>());
        Assert.True((unmoved.Images - image).abs().max().item<float>() < 1e-5);
        Assert.Equal(new long[] { 1, 3, 64, 64 }, moved.Images.shape);
        Assert.True(moved.Mask.max().item<float>() == 1f, "a non-zero move edits somewhere");
    }
}
