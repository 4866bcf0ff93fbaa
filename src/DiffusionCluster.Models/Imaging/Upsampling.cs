using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Imaging;

public static class Upsampling
{
    /// Bicubic upsampling of images [B, C, h, w] in [-1, 1] to size x size, clamped back to [-1, 1]: the baseline
    /// an SR stage must beat, and what a residual SR stage adds its sample to.
    public static Tensor Bicubic(Tensor images, int size)
    {
        using var scope = NewDisposeScope();
        return F.interpolate(images, new long[] { size, size }, mode: InterpolationMode.Bicubic, align_corners: false)
            .clamp(-1, 1).MoveToOuterDisposeScope();
    }
}
