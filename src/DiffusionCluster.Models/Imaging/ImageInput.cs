using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Imaging;

/// An uploaded image made ready for a stage: square size x size, values in [-1, 1], and a note when it had
/// to be cropped or resized.
public sealed record PreparedImage(Tensor Pixels, string? Note);

/// Reads user images and masks. Images of another size are centre-cropped to a square and resized (with a
/// note saying so); a mask must have the image's own dimensions, since a resized mask would not line up.
public static class ImageInput
{
    public static PreparedImage Image(byte[] data, int size, string name = "image")
    {
        using var picture = Load<Rgb24>(data, name);
        string? note = null;
        if (picture.Width != size || picture.Height != size)
        {
            note = $"{name} was {picture.Width}x{picture.Height}; " +
                   (picture.Width != picture.Height ? "centre-cropped to a square and " : "") + $"resized to {size}x{size}";
            int side = Math.Min(picture.Width, picture.Height);
            picture.Mutate(p => p
                .Crop(new Rectangle((picture.Width - side) / 2, (picture.Height - side) / 2, side, side))
                .Resize(size, size, KnownResamplers.Bicubic));
        }
        using var chw = Png.ToTensor(picture);
        return new PreparedImage(chw.unsqueeze(0), note);
    }

    /// Returns keep [1, 1, size, size]: 1 where the image is kept, 0 where it is generated. A mask with any
    /// transparency marks the region to generate by alpha 0 (OpenAI's convention); an opaque mask by black.
    /// imageWidth/imageHeight: the dimensions of the image as uploaded, which the mask must match. alphaOnly:
    /// the "mask" is the image itself (OpenAI's edits without a mask), so only its transparency can mark a region.
    public static Tensor Mask(byte[] data, int imageWidth, int imageHeight, int size, bool alphaOnly = false)
    {
        using var picture = Load<Rgba32>(data, alphaOnly ? "image" : "mask");
        if (picture.Width != imageWidth || picture.Height != imageHeight)
            throw new ArgumentException($"the mask is {picture.Width}x{picture.Height}; it must match the image's {imageWidth}x{imageHeight}");
        int side = Math.Min(picture.Width, picture.Height);
        picture.Mutate(p => p
            .Crop(new Rectangle((picture.Width - side) / 2, (picture.Height - side) / 2, side, side))
            .Resize(size, size, KnownResamplers.NearestNeighbor));
        var pixels = new Rgba32[size * size];
        picture.CopyPixelDataTo(pixels);
        bool usesAlpha = pixels.Any(p => p.A < 255);
        if (alphaOnly && !usesAlpha)
            throw new ArgumentException("the image has no transparent pixels to edit; send a mask, or an image whose transparent areas (alpha 0) mark the region to edit");
        var keep = pixels.Select(p => usesAlpha ? (p.A > 0 ? 1f : 0f) : (p.R + p.G + p.B >= 3 * 128 ? 1f : 0f)).ToArray();
        if (keep.All(k => k == 1f)) throw new ArgumentException("the mask keeps every pixel; mark the region to generate with transparency (alpha 0) or black");
        return tensor(keep, new long[] { 1, 1, size, size });
    }

    /// Image dimensions from the header only (no decoding), for limits checked before any work.
    public static (int Width, int Height) Dimensions(byte[] data, string name = "image")
    {
        IImageInfo? info;
        try
        {
            info = SixLabors.ImageSharp.Image.Identify(data);
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException)
        {
            info = null;
        }
        if (info is null) throw new ArgumentException($"{name} is not a readable image (PNG, JPEG, GIF, BMP or WebP)");
        return (info.Width, info.Height);
    }

    static Image<TPixel> Load<TPixel>(byte[] data, string name) where TPixel : unmanaged, IPixel<TPixel>
    {
        try
        {
            return SixLabors.ImageSharp.Image.Load<TPixel>(data);
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException)
        {
            throw new ArgumentException($"{name} is not a readable image (PNG, JPEG, GIF, BMP or WebP): {e.Message}");
        }
    }
}
