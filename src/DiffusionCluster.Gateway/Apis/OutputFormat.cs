using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;

namespace DiffusionCluster.Gateway.Apis;

/// OpenAI's `output_format` (png, jpeg or webp) and `output_compression` (0-100; the encoder's quality for jpeg and
/// webp, 100 the best; png is lossless and ignores it). The cluster makes PNGs; the gateway re-encodes on the way
/// out. Only a PNG keeps the generation parameters' text chunk.
public sealed record OutputFormat(string Name, int Compression)
{
    public static readonly string[] Names = ["png", "jpeg", "webp"];
    public static readonly OutputFormat Png = new("png", 100);

    public string ContentType => $"image/{Name}";

    /// From a request's fields (a JSON body, or a form's fields as JSON); each named in its error.
    public static OutputFormat Parse(string? name, int compression)
    {
        name ??= "png";
        if (!Names.Contains(name)) throw new BadRequestException($"output_format \"{name}\" is not supported; allowed: {string.Join(", ", Names)}", "output_format");
        return new OutputFormat(name, compression);
    }

    /// From an image link's query (?format=webp&compression=80).
    public static OutputFormat FromQuery(IQueryCollection query)
    {
        var compressionText = query["compression"].ToString();
        int compression = 100;
        if (compressionText != "" && !(int.TryParse(compressionText, out compression) && compression is >= 0 and <= 100))
            throw new BadRequestException($"compression \"{compressionText}\" must be a whole number from 0 to 100", "compression");
        return Parse(query["format"].ToString() is { Length: > 0 } format ? format : null, compression);
    }

    /// The query an image link carries for this format; empty for PNG, the default.
    public string Query => Name == "png" ? "" : $"&format={Name}&compression={Compression}";

    public byte[] Encode(byte[] png)
    {
        if (Name == "png") return png;
        using var image = Image.Load(png);
        using var output = new MemoryStream();
        if (Name == "jpeg") image.SaveAsJpeg(output, new JpegEncoder { Quality = Math.Max(1, Compression) });
        else image.SaveAsWebp(output, new WebpEncoder { Quality = Compression, FileFormat = Compression == 100 ? WebpFileFormatType.Lossless : WebpFileFormatType.Lossy });
        return output.ToArray();
    }
}
