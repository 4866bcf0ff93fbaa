using System.Text.Json;
using DiffusionCluster.Abstractions;
using Microsoft.OpenApi;

namespace DiffusionCluster.Gateway.Apis;

/// The multipart bodies of /v1/images/variations and /v1/images/edits turned into requests with an image
/// operation. OpenAI's fields, plus ours: seed and per-stage options as for generations; for edits the
/// operation (inpaint, the default; sdedit, ilvr, textdiff, attribute, reconstruct, interpolate) and its settings.
public static class EditRequest
{
    static readonly string[] TextFields = ["prompt", "interpolate_noise", "size", "response_format", "output_format", "user", "model", "quality", "style", "operation", "attribute", "source_caption",
        "prior_thresholding", "decoder64_thresholding", "sr256_thresholding", "sr1024_thresholding"];
    static readonly string[] Operations = ["inpaint", "sdedit", "ilvr", "textdiff", "attribute", "reconstruct", "interpolate"];

    /// The fields an edit reads beside the generation fields (ImageRequestFields), for the parser and the schema; the
    /// first, the image, is every upload's.
    public static IReadOnlyList<BodyField> Fields { get; } =
    [
        BodyField.Image("image", "The image (PNG, JPEG or WebP; resized to the cascade's edit size, which the response's notes say)."),
        BodyField.Image("mask", "inpaint: transparent where the image is to be redrawn (default: the image's own transparency)."),
        BodyField.Image("second_image", "interpolate: the image the frames end at."),
        new("operation", JsonSchemaType.String, "The edit (default inpaint).", Values: Operations),
        new("strength", JsonSchemaType.Number, "sdedit: how much of the trajectory is redrawn (default 0.6).", SdEditOperation.MinStrength, SdEditOperation.MaxStrength),
        new("ilvr_factor", JsonSchemaType.Integer, "ilvr: the downsampling factor of the low frequencies kept (default 8; divides the edit size).", 1, IlvrOperation.MaxFactor),
        new("ilvr_cutoff", JsonSchemaType.Number, "ilvr: the share of the noise schedule below which the image is free (default 0.3).", 0, IlvrOperation.MaxCutoff),
        new("resample", JsonSchemaType.Integer, "inpaint: RePaint's resampling rounds per step (default 5).", 1, InpaintOperation.MaxResample),
        new("attribute", JsonSchemaType.String, "attribute: the colour or shape to move toward (e.g. red, circle)."),
        new("amount", JsonSchemaType.Number, $"textdiff: 0 to 1 (default {TextDiffOperation.DefaultAmount}); attribute: -2 to 2 (default {AttributeOperation.DefaultAmount}).",
            -AttributeOperation.MaxAmount, AttributeOperation.MaxAmount),
        new("source_caption", JsonSchemaType.String, "textdiff: what the image shows (e.g. a red circle); the prompt says what it should. What both leave unsaid (places, sizes, background) is read from the image."),
        new("inversion_steps", JsonSchemaType.Integer, $"textdiff, attribute, reconstruct, interpolate: DDIM inversion steps (default {InvertingOperation.DefaultInversionSteps}).",
            InvertingOperation.MinInversionSteps, InvertingOperation.MaxInversionSteps),
        new("frames", JsonSchemaType.Integer, "interpolate: frames from the image to the second (default 8).", 2, InterpolateOperation.MaxFrames),
        new("interpolate_noise", JsonSchemaType.Boolean, "interpolate: slerp the inverted noises too (default true)."),
    ];

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

    /// The operations that read each operation's own field: a field sent to another operation is refused, not ignored.
    static readonly Dictionary<string, string[]> ReadBy = new()
    {
        ["mask"] = ["inpaint"], ["resample"] = ["inpaint"], ["second_image"] = ["interpolate"], ["frames"] = ["interpolate"],
        ["interpolate_noise"] = ["interpolate"], ["strength"] = ["sdedit"], ["ilvr_factor"] = ["ilvr"], ["ilvr_cutoff"] = ["ilvr"],
        ["attribute"] = ["attribute"], ["amount"] = ["textdiff", "attribute"], ["source_caption"] = ["textdiff"],
        ["inversion_steps"] = ["textdiff", "attribute", "reconstruct", "interpolate"],
    };

    public static async Task<(ImageRequest Request, List<string> Notes)> Edits(ImageUpload upload, GatewayOptions options, CancellationToken cancellation)
    {
        var fields = upload.Fields(TextFields);
        var operation = ImageRequest.String(fields, "operation") ?? "inpaint";
        if (!Operations.Contains(operation))
            throw new BadRequestException($"operation \"{operation}\" is not supported; allowed: {string.Join(", ", Operations)}", "operation");
        foreach (var name in upload.Form.Keys.Concat(upload.Form.Files.Select(f => f.Name)))
            if (ReadBy.TryGetValue(name, out var readers) && !readers.Contains(operation))
                throw new BadRequestException($"{name} is for operation {string.Join(" or ", readers)}; operation {operation} does not read it", name);
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
        return (Parse(fields, Fields.Select(f => f.Name).ToArray(), edit), notes);
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
