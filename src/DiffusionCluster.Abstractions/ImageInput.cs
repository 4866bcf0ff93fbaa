using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DiffusionCluster.Abstractions;

/// An uploaded image made ready for a stage: [1, 3, size, size], values in [-1, 1], and a note when it had to be
/// cropped or resized.
public sealed record PreparedImage(WireTensor Pixels, string? Note);

/// Reads user images and masks, at the edge (no tensor library needed). Images of another size are centre-cropped to a square and resized (with a
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
        return new PreparedImage(Pixels(picture), note);
    }

    /// Returns keep [1, 1, size, size]: 1 where the image is kept, 0 where it is generated. A mask with any
    /// transparency marks the region to generate by alpha 0 (OpenAI's convention); an opaque mask by black.
    /// imageWidth/imageHeight: the dimensions of the image as uploaded, which the mask must match. alphaOnly:
    /// the "mask" is the image itself (OpenAI's edits without a mask), so only its transparency can mark a region.
    public static WireTensor Mask(byte[] data, int imageWidth, int imageHeight, int size, bool alphaOnly = false)
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
        return new WireTensor([1, 1, size, size], keep);
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

    /// [1, 3, H, W] in [-1, 1], channel-major, as the networks read images.
    static WireTensor Pixels(Image<Rgb24> picture)
    {
        int width = picture.Width, height = picture.Height, plane = width * height;
        var rgb = new Rgb24[plane];
        picture.CopyPixelDataTo(rgb);
        var values = new float[3 * plane];
        for (int i = 0; i < plane; i++)
        {
            values[i] = rgb[i].R / 127.5f - 1;
            values[plane + i] = rgb[i].G / 127.5f - 1;
            values[2 * plane + i] = rgb[i].B / 127.5f - 1;
        }
        return new WireTensor([1, 3, height, width], values);
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
