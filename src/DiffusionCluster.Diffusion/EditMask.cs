using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Diffusion;

/// DiffEdit's mask (Couairon et al. 2022): where a denoiser's predictions for the same noised image differ between
/// the source's and the edit's conditioning is where the edit must change the image; elsewhere the source is kept.
public static class EditMask
{
    /// A largest difference below this (one step of an 8-bit image in [-1, 1] is 2/255) is one no picture shows: float
    /// rounding between two equal conditionings, not an edit, so the mask is empty rather than that noise scaled up.
    public const double InvisibleDifference = 1.0 / 255;

    /// difference: |prediction(target) - prediction(source)| [B, C, H, W], summed or averaged over noise draws.
    /// Averaged over channels, smoothed over 3x3 pixels, scaled to [0, 1] by each image's maximum, and kept where at
    /// least threshold; then grown by dilation pixels on every side so the edited object's edge is redrawn too. An image
    /// whose largest smoothed difference is below InvisibleDifference gets an empty mask.
    /// Returns [B, 1, H, W], 1 where the edit applies, 0 where the source is kept.
    public static Tensor FromDifference(Tensor difference, double threshold = 0.5, int dilation = 1)
    {
        if (!(threshold > 0 && threshold <= 1)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "mask threshold must be in (0, 1]");
        if (dilation < 0) throw new ArgumentOutOfRangeException(nameof(dilation), dilation, "mask dilation must be >= 0");
        using var scope = NewDisposeScope();
        var map = F.avg_pool2d(difference.abs().mean(new long[] { 1 }, keepdim: true), 3, stride: 1, padding: 1, count_include_pad: false);
        var peak = map.amax(new long[] { 1, 2, 3 }, keepdim: true);
        var mask = ((map / peak.clamp_min(1e-12) >= threshold) & (peak >= InvisibleDifference)).to(ScalarType.Float32);
        if (dilation > 0) mask = F.max_pool2d(mask, 2 * dilation + 1, stride: 1, padding: dilation);
        return mask.MoveToOuterDisposeScope();
    }
}
