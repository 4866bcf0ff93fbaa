using DiffusionCluster.Abstractions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionCluster.Models.Tests;

public class ImageInputTests
{
    static byte[] Png<TPixel>(int width, int height, TPixel colour) where TPixel : unmanaged, IPixel<TPixel>
    {
        using var image = new Image<TPixel>(width, height, colour);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    [Fact]
    public void An_image_of_another_size_is_cropped_and_resized_with_a_note()
    {
        var prepared = ImageInput.Image(Png(200, 100, new Rgb24(255, 0, 0)), 64);

        Assert.Equal(new long[] { 1, 3, 64, 64 }, prepared.Pixels.Shape);
        Assert.Equal("image was 200x100; centre-cropped to a square and resized to 64x64", prepared.Note);
        Assert.Equal(1.0, prepared.Pixels.Values[10 * 64 + 10], 3); // red channel
        Assert.Equal(-1.0, prepared.Pixels.Values[64 * 64 + 10 * 64 + 10], 3); // green channel
    }

    [Fact]
    public void Pixels_read_as_the_decoder_images_are_written()
    {
        // The edge's own conversion agrees with Png's, which reads images for the networks.
        var bytes = Png(64, 64, new Rgb24(200, 17, 90));
        using var picture = SixLabors.ImageSharp.Image.Load<Rgb24>(bytes);
        using var expected = DiffusionCluster.Models.Imaging.Png.ToTensor(picture);

        var prepared = ImageInput.Image(bytes, 64);

        Assert.Equal(expected.data<float>().ToArray(), prepared.Pixels.Values);
    }

    [Fact]
    public void An_image_of_the_right_size_has_no_note()
    {
        Assert.Null(ImageInput.Image(Png(64, 64, new Rgb24(0, 0, 0)), 64).Note);
    }

    [Fact]
    public void A_non_image_is_rejected_by_name()
    {
        var error = Assert.Throws<ArgumentException>(() => ImageInput.Image("not a picture"u8.ToArray(), 64));

        Assert.StartsWith("image is not a readable image", error.Message);
        Assert.Throws<ArgumentException>(() => ImageInput.Dimensions("nope"u8.ToArray()));
    }

    [Fact]
    public void A_transparent_mask_marks_the_region_to_generate()
    {
        using var mask = new Image<Rgba32>(128, 128, new Rgba32(0, 0, 0, 255));
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 128; x++)
                mask[x, y] = new Rgba32(0, 0, 0, 0);
        using var stream = new MemoryStream();
        mask.SaveAsPng(stream);

        var keep = ImageInput.Mask(stream.ToArray(), 128, 128, 64);

        Assert.Equal(new long[] { 1, 1, 64, 64 }, keep.Shape);
        Assert.Equal(0, keep.Values[0]);
        Assert.Equal(1, keep.Values[63 * 64 + 63]);
    }

    [Fact]
    public void A_mask_must_match_the_image_and_mark_something()
    {
        var wrongSize = Assert.Throws<ArgumentException>(() => ImageInput.Mask(Png(32, 32, new Rgb24(0, 0, 0)), 64, 64, 64));
        var keepsAll = Assert.Throws<ArgumentException>(() => ImageInput.Mask(Png(64, 64, new Rgb24(255, 255, 255)), 64, 64, 64));

        Assert.Equal("the mask is 32x32; it must match the image's 64x64", wrongSize.Message);
        Assert.Contains("keeps every pixel", keepsAll.Message);
    }
}
