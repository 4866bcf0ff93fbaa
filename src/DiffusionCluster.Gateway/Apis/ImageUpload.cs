using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Apis;

/// A multipart upload read with care: the body size limit, a truncated or malformed body, and each image's
/// dimensions read from its header before any decoding (a decompression bomb costs nothing).
public sealed record ImageUpload(IFormCollection Form, byte[] Image, int Width, int Height)
{
    public static async Task<ImageUpload> Read(HttpContext context, GatewayOptions options)
    {
        if (!context.Request.HasFormContentType)
            throw new BadRequestException("send multipart/form-data with an image file", "image");
        if (context.Request.ContentLength > options.MaxUploadBytes)
            throw new BadRequestException($"the upload is {context.Request.ContentLength} bytes; the limit is {options.MaxUploadBytes}", "image", 413, "body_too_large");
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            throw new BadRequestException($"the multipart body is truncated or malformed: {e.Message}", "image", code: "invalid_multipart");
        }
        var (image, width, height) = await File(form, "image", options, context.RequestAborted)
            ?? throw new BadRequestException("image is required (a PNG file field named \"image\")", "image", code: "missing_field");
        return new ImageUpload(form, image, width, height);
    }

    /// A file field's bytes and dimensions, or null when the field is absent.
    public static async Task<(byte[] Bytes, int Width, int Height)?> File(IFormCollection form, string field, GatewayOptions options, CancellationToken cancellation)
    {
        var file = form.Files.GetFile(field);
        if (file is null) return null;
        using var buffer = new MemoryStream();
        await using (var stream = file.OpenReadStream()) await stream.CopyToAsync(buffer, cancellation);
        var bytes = buffer.ToArray();
        int width, height;
        try
        {
            (width, height) = ImageInput.Dimensions(bytes, field);
        }
        catch (ArgumentException)
        {
            throw new BadRequestException($"{field} \"{file.FileName}\" is not a readable PNG", field, code: "invalid_image");
        }
        long pixels = (long)width * height;
        if (width > options.MaxUploadSide || height > options.MaxUploadSide || pixels > options.MaxUploadPixels)
            throw new BadRequestException($"{field} is {width}x{height}; the limit is {options.MaxUploadSide} per side and {options.MaxUploadPixels} pixels", field, code: "image_too_large");
        return (bytes, width, height);
    }

    /// The form's text fields as a JSON object, so they are checked by the same parser as a JSON body:
    /// numbers where a field holds one, text otherwise (the prompt and other text fields stay text).
    public JsonElement Fields(params string[] textFields)
    {
        var body = new JsonObject();
        foreach (var (name, value) in Form)
        {
            var text = value.ToString();
            body[name] = !textFields.Contains(name) && double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number)
                ? (long.TryParse(text, out var whole) ? JsonValue.Create(whole) : JsonValue.Create(number))
                : JsonValue.Create(text);
        }
        return JsonSerializer.SerializeToElement(body);
    }

    /// The image at the cascade's edit size, with a note when it had to be resized.
    public PreparedImage Prepared(int size) => Wrap("image", () => ImageInput.Image(Image, size));

    public static T Wrap<T>(string field, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (ArgumentException e)
        {
            throw new BadRequestException(e.Message, field, code: "invalid_image");
        }
    }
}
