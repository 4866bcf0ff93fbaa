using DiffusionCluster.Diffusion;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion.Tests;

/// DiffEdit's mask from a prediction difference whose answer is known: a square where the two conditionings disagree.
public class EditMaskTests
{
    static Tensor SquareDifference(int from, int to, float inside = 1f, float outside = 0.01f)
    {
        var difference = full(new long[] { 1, 3, 16, 16 }, outside);
        difference[.., .., from..to, from..to] = inside;
        return difference;
    }

    [Fact]
    public void The_mask_covers_where_the_predictions_differ_and_nothing_else()
    {
        using var difference = SquareDifference(4, 10);

        using var mask = EditMask.FromDifference(difference, threshold: 0.5, dilation: 0);

        Assert.Equal(new long[] { 1, 1, 16, 16 }, mask.shape);
        // After the 3x3 smoothing, at threshold 0.5: the square's inside and edge pixels (6 of 9 neighbours inside) stay,
        // its four corners (4 of 9) and the pixels beside it (3 of 9) go.
        Assert.Equal(32f, mask.sum().item<float>());
        Assert.Equal(1f, mask[0, 0, 5..9, 4..10].min().item<float>());
        Assert.Equal(0f, mask[0, 0, 4, 4].item<float>());
        Assert.Equal(0f, mask[0, 0, 3, 6].item<float>());
    }

    [Fact]
    public void Dilation_grows_the_mask_by_its_pixels_on_every_side()
    {
        using var difference = SquareDifference(6, 8);

        // At threshold 0.6 only the 2x2 square stays (beside it the smoothed difference is half the peak).
        using var tight = EditMask.FromDifference(difference, threshold: 0.6, dilation: 0);
        using var grown = EditMask.FromDifference(difference, threshold: 0.6, dilation: 2);

        Assert.Equal(4f, tight.sum().item<float>());
        Assert.Equal(36f, grown.sum().item<float>());
        Assert.Equal(1f, grown[0, 0, 4..10, 4..10].min().item<float>());
    }

    [Fact]
    public void The_threshold_is_relative_to_each_images_largest_difference()
    {
        using var strong = SquareDifference(4, 10, inside: 10f, outside: 0.1f);
        using var weak = SquareDifference(4, 10, inside: 0.05f, outside: 0.0005f);

        using var a = EditMask.FromDifference(strong);
        using var b = EditMask.FromDifference(weak);

        Assert.True(a.equal(b).all().item<bool>());
        Assert.Throws<ArgumentOutOfRangeException>(() => EditMask.FromDifference(strong, threshold: 0));
    }

    [Fact]
    public void No_difference_or_one_no_picture_shows_gives_an_empty_mask()
    {
        using var none = zeros(2, 3, 16, 16);
        using var rounding = SquareDifference(4, 10, inside: 1e-6f, outside: 1e-8f);

        using var empty = EditMask.FromDifference(none);
        using var invisible = EditMask.FromDifference(rounding);

        Assert.Equal(0f, empty.sum().item<float>());
        Assert.Equal(0f, invisible.sum().item<float>());
    }
}
