using System.Text.Json;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Apis;

/// The multipart bodies of /v1/images/variations and /v1/images/edits turned into requests with an image
/// operation. OpenAI's fields, plus ours: seed and per-stage options as for generations; for edits the
/// operation (inpaint, the default; sdedit, ilvr, textdiff, attribute, reconstruct, interpolate) and its settings.
public static class EditRequest
{
    static readonly string[] TextFields = ["prompt", "interpolate_noise", "size", "response_format", "output_format", "user", "model", "quality", "style", "operation", "attribute", "source_caption",
        "prior_thresholding", "decoder64_thresholding", "sr256_thresholding", "sr1024_thresholding"];
    static readonly string[] Operations = ["inpaint", "sdedit", "ilvr", "textdiff", "attribute", "reconstruct", "interpolate"];

    public static (ImageRequest Request, List<string> Notes) Variations(ImageUpload upload)
    {
        var notes = new List<string>();
        var operation = new VariationOperation { Image = Image(upload, notes) };
        return (Parse(upload.Fields(TextFields), ["image"], operation), notes);
    }

    /// A segmentation: the colour-coded class mask of the upload (64x64).
    public static (ImageRequest Request, List<string> Notes) Segmentation(ImageUpload upload)
    {
        var notes = new List<string>();
        var operation = new SegmentOperation { Image = Image(upload, notes) };
        return (Parse(upload.Fields(TextFields), ["image"], operation, $"{ImageOperation.ImageSize}x{ImageOperation.ImageSize}"), notes);
    }

    public static async Task<(ImageRequest Request, List<string> Notes)> Edits(ImageUpload upload, GatewayOptions options, CancellationToken cancellation)
    {
        var fields = upload.Fields(TextFields);
        var operation = ImageRequest.String(fields, "operation") ?? "inpaint";
        if (!Operations.Contains(operation))
            throw new BadRequestException($"operation \"{operation}\" is not supported; allowed: {string.Join(", ", Operations)}", "operation");
        var notes = new List<string>();
        var image = Image(upload, notes);
        ImageOperation edit = operation switch
        {
            "sdedit" => new SdEditOperation
            {
                Image = image,
                Strength = ImageRequest.Double(fields, "strength", 0.6, SdEditOperation.MinStrength, SdEditOperation.MaxStrength),
            },
            "textdiff" => new TextDiffOperation
            {
                Image = image,
                SourceCaption = ImageRequest.String(fields, "source_caption") ?? throw new BadRequestException("source_caption is required for operation textdiff (what the image shows, e.g. a red circle)", "source_caption", code: "missing_field"),
                Amount = ImageRequest.Double(fields, "amount", TextDiffOperation.DefaultAmount, 0, 1),
                InversionSteps = InversionSteps(fields),
            },
            "attribute" => new AttributeOperation
            {
                Image = image,
                Attribute = ImageRequest.String(fields, "attribute") ?? throw new BadRequestException("attribute is required for operation attribute (e.g. red, circle)", "attribute", code: "missing_field"),
                Amount = ImageRequest.Double(fields, "amount", AttributeOperation.DefaultAmount, -AttributeOperation.MaxAmount, AttributeOperation.MaxAmount),
                InversionSteps = InversionSteps(fields),
            },
            "reconstruct" => new ReconstructOperation { Image = image, InversionSteps = InversionSteps(fields) },
            "interpolate" => new InterpolateOperation
            {
                Image = image,
                Second = await SecondImage(upload, options, cancellation),
                Frames = ImageRequest.Int(fields, "frames", 8, 2, InterpolateOperation.MaxFrames),
                InterpolateNoise = ImageRequest.Bool(fields, "interpolate_noise", true),
                InversionSteps = InversionSteps(fields),
            },
            "ilvr" => new IlvrOperation
            {
                Image = image,
                Factor = ImageRequest.Int(fields, "ilvr_factor", 8, 1, IlvrOperation.MaxFactor),
                Cutoff = ImageRequest.Double(fields, "ilvr_cutoff", 0.3, 0, IlvrOperation.MaxCutoff),
            },
            _ => new InpaintOperation
            {
                Image = image,
                Mask = await Mask(upload, options, cancellation),
                Resample = ImageRequest.Int(fields, "resample", 5, 1, InpaintOperation.MaxResample),
            },
        };
        var used = new[] { "image", "mask", "second_image", "operation", "strength", "ilvr_factor", "ilvr_cutoff", "resample", "attribute", "amount",
            "source_caption", "inversion_steps", "frames", "interpolate_noise" };
        return (Parse(fields, used, edit), notes);
    }

    static ImageRequest Parse(JsonElement fields, string[] extra, ImageOperation operation, string defaultSize = "1024x1024")
    {
        try
        {
            return ImageRequest.Parse(fields, extra, operation, defaultSize);
        }
        catch (ArgumentException e)
        {
            throw new BadRequestException(e.Message);
        }
    }

    static WireTensor Image(ImageUpload upload, List<string> notes)
    {
        var prepared = upload.Prepared(ImageOperation.ImageSize);
        if (prepared.Note is not null) notes.Add(prepared.Note);
        return prepared.Pixels;
    }

    static int InversionSteps(JsonElement fields) =>
        ImageRequest.Int(fields, "inversion_steps", InvertingOperation.DefaultInversionSteps, InvertingOperation.MinInversionSteps, InvertingOperation.MaxInversionSteps);

    /// The interpolation's end image, resized as the first one is.
    static async Task<WireTensor> SecondImage(ImageUpload upload, GatewayOptions options, CancellationToken cancellation)
    {
        var second = await ImageUpload.File(upload.Form, "second_image", options, cancellation)
            ?? throw new BadRequestException("second_image is required for operation interpolate (the image the frames end at)", "second_image", code: "missing_field");
        return ImageUpload.Wrap("second_image", () => ImageInput.Image(second.Bytes, ImageOperation.ImageSize).Pixels);
    }

    /// The mask file, or the image's own transparency when there is none (OpenAI's convention).
    static async Task<WireTensor> Mask(ImageUpload upload, GatewayOptions options, CancellationToken cancellation)
    {
        var mask = await ImageUpload.File(upload.Form, "mask", options, cancellation);
        return mask is { } m
            ? ImageUpload.Wrap("mask", () => ImageInput.Mask(m.Bytes, upload.Width, upload.Height, ImageOperation.ImageSize))
            : ImageUpload.Wrap("image", () => ImageInput.Mask(upload.Image, upload.Width, upload.Height, ImageOperation.ImageSize, alphaOnly: true));
    }
}
