using System.Text.Json;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Apis;

/// The multipart bodies of /v1/images/variations and /v1/images/edits turned into requests with an image
/// operation. OpenAI's fields, plus ours: seed and per-stage options as for generations; for edits the
/// operation (inpaint, the default, sdedit or ilvr) and its settings.
public static class EditRequest
{
    static readonly string[] TextFields = ["prompt", "size", "response_format", "user", "model", "quality", "style", "operation", "attribute",
        "prior_thresholding", "decoder64_thresholding", "sr256_thresholding", "sr1024_thresholding"];
    static readonly string[] Operations = ["inpaint", "sdedit", "ilvr", "attribute"];

    public static (ImageRequest Request, List<string> Notes) Variations(ImageUpload upload)
    {
        var notes = new List<string>();
        var edit = new ImageEditSpec { Kind = ImageEditKind.Variation, Image = Image(upload, notes) };
        return (Parse(upload.Fields(TextFields), ["image"], edit), notes);
    }

    /// A segmentation: the colour-coded class mask of the upload (64x64).
    public static (ImageRequest Request, List<string> Notes) Segmentation(ImageUpload upload)
    {
        var notes = new List<string>();
        var edit = new ImageEditSpec { Kind = ImageEditKind.Segment, Image = Image(upload, notes) };
        return (Parse(upload.Fields(TextFields), ["image"], edit, $"{ImageEditSpec.ImageSize}x{ImageEditSpec.ImageSize}"), notes);
    }

    public static async Task<(ImageRequest Request, List<string> Notes)> Edits(ImageUpload upload, GatewayOptions options, CancellationToken cancellation)
    {
        var fields = upload.Fields(TextFields);
        var operation = ImageRequest.String(fields, "operation") ?? "inpaint";
        if (!Operations.Contains(operation))
            throw new BadRequestException($"operation \"{operation}\" is not supported; allowed: {string.Join(", ", Operations)}", "operation");
        var notes = new List<string>();
        var defaults = new ImageEditSpec { Kind = ImageEditKind.Inpaint, Image = Image(upload, notes) };
        var edit = operation switch
        {
            "sdedit" => defaults with
            {
                Kind = ImageEditKind.SdEdit,
                Strength = ImageRequest.Double(fields, "strength", defaults.Strength, ImageEditSpec.MinStrength, ImageEditSpec.MaxStrength),
            },
            "attribute" => defaults with
            {
                Kind = ImageEditKind.Attribute,
                AttributeName = ImageRequest.String(fields, "attribute") ?? throw new BadRequestException("attribute is required for operation attribute (e.g. red, circle)", "attribute", code: "missing_field"),
                Amount = ImageRequest.Double(fields, "amount", 0.5, -ImageEditSpec.MaxAttributeAmount, ImageEditSpec.MaxAttributeAmount),
            },
            "ilvr" => defaults with
            {
                Kind = ImageEditKind.Ilvr,
                Factor = ImageRequest.Int(fields, "ilvr_factor", defaults.Factor, 1, ImageEditSpec.MaxFactor),
                Cutoff = ImageRequest.Double(fields, "ilvr_cutoff", defaults.Cutoff, 0, ImageEditSpec.MaxCutoff),
            },
            _ => defaults with
            {
                Mask = await Mask(upload, options, cancellation),
                Resample = ImageRequest.Int(fields, "resample", defaults.Resample, 1, ImageEditSpec.MaxResample),
            },
        };
        var used = new[] { "image", "mask", "operation", "strength", "ilvr_factor", "ilvr_cutoff", "resample", "attribute", "amount" };
        return (Parse(fields, used, edit), notes);
    }

    static ImageRequest Parse(JsonElement fields, string[] extra, ImageEditSpec edit, string defaultSize = "1024x1024")
    {
        try
        {
            return ImageRequest.Parse(fields, extra, edit, defaultSize);
        }
        catch (ArgumentException e)
        {
            throw new BadRequestException(e.Message);
        }
    }

    static WireTensor Image(ImageUpload upload, List<string> notes)
    {
        var prepared = upload.Prepared(ImageEditSpec.ImageSize);
        if (prepared.Note is not null) notes.Add(prepared.Note);
        return prepared.Pixels;
    }

    /// The mask file, or the image's own transparency when there is none (OpenAI's convention).
    static async Task<WireTensor> Mask(ImageUpload upload, GatewayOptions options, CancellationToken cancellation)
    {
        var mask = await ImageUpload.File(upload.Form, "mask", options, cancellation);
        return mask is { } m
            ? ImageUpload.Wrap("mask", () => ImageInput.Mask(m.Bytes, upload.Width, upload.Height, ImageEditSpec.ImageSize))
            : ImageUpload.Wrap("image", () => ImageInput.Mask(upload.Image, upload.Width, upload.Height, ImageEditSpec.ImageSize, alphaOnly: true));
    }
}
