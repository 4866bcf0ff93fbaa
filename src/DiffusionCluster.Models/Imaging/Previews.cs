using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Imaging;

/// Small PNGs of an image in the making (a denoising step's estimate of the clean image), for live previews.
public static class Previews
{
    /// The longest side of a preview: enough to watch the picture form, small enough to send a few times a second
    /// (a 1024 px stage's estimate is averaged down to it).
    public const int MaxSize = 256;

    /// image: [3, H, W] or [1, 3, H, W] in [-1, 1] (values outside are clamped).
    public static byte[] Encode(Tensor image)
    {
        using var scope = NewDisposeScope();
        var batch = image.dim() == 3 ? image.unsqueeze(0) : image;
        long side = Math.Max(batch.shape[2], batch.shape[3]);
        if (side > MaxSize)
        {
            long h = Math.Max(1, batch.shape[2] * MaxSize / side), w = Math.Max(1, batch.shape[3] * MaxSize / side);
            batch = F.interpolate(batch.detach().cpu().to(float32), [h, w], mode: InterpolationMode.Area);
        }
        return Png.Encode(batch);
    }
}
