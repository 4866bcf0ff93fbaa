using DiffusionCluster.Diffusion;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion.Tests;

public class ThresholdingTests
{
    static float[] Apply(Thresholding thresholding, params float[] values)
    {
        using var x = tensor(values).reshape(1, 1, 1, values.Length);
        using var result = thresholding.Apply(x);
        return result.data<float>().ToArray();
    }

    [Fact]
    public void Dynamic_thresholding_at_the_maximum_divides_by_the_largest_magnitude()
    {
        var result = Apply(Thresholding.Dynamic(1.0), 0.5f, -2f, 3f, 1f);

        Assert.Equal(new[] { 0.5f / 3, -2f / 3, 1f, 1f / 3 }, result, new FloatComparer(1e-6f));
    }

    [Fact]
    public void Dynamic_thresholding_matches_a_hand_computed_percentile()
    {
        // |x| sorted = 0.5, 1, 2, 3; the 50th percentile (linear) is 1.5: clip to [-1.5, 1.5], divide by 1.5.
        var result = Apply(Thresholding.Dynamic(0.5), 0.5f, -2f, 3f, 1f);

        Assert.Equal(new[] { 1f / 3, -1f, 1f, 2f / 3 }, result, new FloatComparer(1e-6f));
    }

    [Fact]
    public void Dynamic_thresholding_caps_s()
    {
        var result = Apply(Thresholding.Dynamic(1.0, maxScale: 1.2), 0.6f, -2f, 3f);

        Assert.Equal(new[] { 0.5f, -1f, 1f }, result, new FloatComparer(1e-6f));
    }

    [Fact]
    public void Dynamic_thresholding_never_scales_up_a_sample_inside_the_unit_range()
    {
        var result = Apply(Thresholding.Dynamic(0.995), 0.2f, -0.4f);

        Assert.Equal(new[] { 0.2f, -0.4f }, result, new FloatComparer(1e-6f));
    }

    [Fact]
    public void Dynamic_thresholding_works_per_sample()
    {
        using var x = tensor(new[] { 4f, -4f, 0.5f, -0.5f }).reshape(2, 1, 1, 2);
        using var result = Thresholding.Dynamic(1.0).Apply(x);

        Assert.Equal(new[] { 1f, -1f, 0.5f, -0.5f }, result.data<float>().ToArray(), new FloatComparer(1e-6f));
    }

    [Fact]
    public void Static_thresholding_clips_to_the_unit_range()
    {
        Assert.Equal(new[] { -1f, 0.3f, 1f }, Apply(Thresholding.Static, -3f, 0.3f, 1.5f));
    }

    [Theory]
    [InlineData("none", typeof(NoThresholding))]
    [InlineData("static", typeof(StaticThresholding))]
    [InlineData("dynamic:0.95:1.5", typeof(DynamicThresholding))]
    public void Thresholding_parses_from_its_spec(string spec, Type expected)
    {
        Assert.IsType(expected, Thresholding.Parse(spec));
    }

    [Fact]
    public void An_unknown_thresholding_names_the_choices()
    {
        var error = Assert.Throws<ArgumentException>(() => Thresholding.Parse("clip"));

        Assert.Contains("none, static, dynamic", error.Message);
    }

    sealed class FloatComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float value) => 0;
    }

    [Fact]
    public void Static_thresholding_of_a_scaled_residual_keeps_the_image_base_plus_residual_in_range()
    {
        // image = base + x0 / 4. Base 0.5: residuals up to 0.5 * 4 = 2 keep the image in range, 3.2 (image 1.3) is
        // cut to 2; base -0.9 with -0.8 (image -1.1) is cut to -0.4; 0.4 on base 0 stays. Plain static thresholding
        // would have cut the residual 2 itself to 1.
        using var baseImage = tensor(new[] { 0.5f, 0.5f, -0.9f, 0f }).reshape(1, 1, 1, 4);
        var result = Apply(new ResidualThresholding(Thresholding.Static, baseImage, 4), 2f, 3.2f, -0.8f, 0.4f);

        Assert.Equal(new[] { 2f, 2f, -0.4f, 0.4f }, result, new FloatComparer(1e-5f));
    }
}
