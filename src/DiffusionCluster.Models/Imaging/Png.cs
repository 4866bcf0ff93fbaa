using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Imaging;

/// Conversions between image tensors ([3, H, W] or [1, 3, H, W], values in [-1, 1]) and PNG bytes.
public static class Png
{
    /// The PNG's text chunk that says what made the image (a JSON object), as image tools read generation parameters.
    public const string ParametersKeyword = "parameters";

    /// zlib's fastest level: the default level spends most of a warm 1024 px request's time outside the networks on
    /// the PNG (docs/HISTORY.md, "The heap, not the kernels"); the fastest takes a fraction of it for a larger file.
    static readonly PngEncoder Encoder = new() { CompressionLevel = PngCompressionLevel.BestSpeed };

    /// parameters: written as the "parameters" text chunk when given.
    public static byte[] Encode(Tensor image, string? parameters = null)
    {
        using var scope = NewDisposeScope();
        var chw = image.dim() == 4 ? image[0] : image;
        if (chw.dim() != 3 || chw.shape[0] != 3) throw new ArgumentException($"expected a [3, H, W] image; got [{string.Join(", ", image.shape)}]");
        int h = (int)chw.shape[1], w = (int)chw.shape[2];
        var bytes = ((chw.detach().cpu().to(float32).clamp(-1, 1) + 1) * 127.5).round().to(ScalarType.Byte).permute(1, 2, 0).contiguous().data<byte>().ToArray();
        using var picture = Image.LoadPixelData<Rgb24>(bytes, w, h);
        if (parameters is not null)
            picture.Metadata.GetPngMetadata().TextData.Add(new PngTextData(ParametersKeyword, parameters, "", ""));
        using var stream = new MemoryStream();
        picture.SaveAsPng(stream, Encoder);
        return stream.ToArray();
    }

    /// The "parameters" text chunk of a PNG, or null when it has none.
    public static string? Parameters(byte[] data)
    {
        using var picture = Image.Load(data);
        return picture.Metadata.GetPngMetadata().TextData.FirstOrDefault(t => t.Keyword == ParametersKeyword).Value;
    }

    /// Decodes a PNG (or any format ImageSharp reads) to [3, H, W] in [-1, 1].
    public static Tensor Decode(byte[] data)
    {
        using var picture = Image.Load<Rgb24>(data);
        return ToTensor(picture);
    }

    /// A decoded picture as [3, H, W] in [-1, 1].
    public static Tensor ToTensor(Image<Rgb24> picture)
    {
        var pixels = new byte[picture.Width * picture.Height * 3];
        picture.CopyPixelDataTo(pixels);
        using var scope = NewDisposeScope();
        var hwc = tensor(pixels, new long[] { picture.Height, picture.Width, 3 });
        return (hwc.permute(2, 0, 1).to(float32) / 127.5 - 1).MoveToOuterDisposeScope();
    }

    /// Places equally sized [3, h, w] images side by side in a grid with the given number of columns.
    public static Tensor Grid(IReadOnlyList<Tensor> images, int columns)
    {
        if (images.Count == 0) throw new ArgumentException("a grid needs at least one image");
        using var scope = NewDisposeScope();
        var rows = new List<Tensor>();
        for (int start = 0; start < images.Count; start += columns)
        {
            var row = images.Skip(start).Take(columns).ToList();
            while (row.Count < columns) row.Add(ones_like(images[0]));
            rows.Add(cat(row.ToArray(), 2));
        }
        return cat(rows.ToArray(), 1).MoveToOuterDisposeScope();
    }
}
