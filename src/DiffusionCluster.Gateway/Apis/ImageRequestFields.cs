using System.Globalization;
using System.Text.Json.Nodes;
using DiffusionCluster.Abstractions;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace DiffusionCluster.Gateway.Apis;

/// One field of a request body: its JSON type, what it does and its limits, for the OpenAPI document. A file field
/// (multipart only) is binary.
public sealed record BodyField(string Name, JsonSchemaType Type, string Description, double? Minimum = null, double? Maximum = null,
    IReadOnlyList<string>? Values = null, bool File = false)
{
    public static BodyField Image(string name, string description) => new(name, JsonSchemaType.String, description, File: true);
}

/// The fields POST /v1/images/generations and POST /v1/jobs read: the list ImageRequest.Parse accepts (any other field
/// is refused) and the request body's schema in /openapi/v1.json. A test checks each limit against the parser.
public static class ImageRequestFields
{
    static readonly string[] Stages = CascadeStages.All.Where(s => s != CascadeStage.Text).Select(s => s.Name()).ToArray();

    public static IReadOnlyList<BodyField> All { get; } =
    [
        new("prompt", JsonSchemaType.String, "What to draw (required, except for variations: without one, a variation is drawn from the image's own caption, returned as revised_prompt)."),
        new("n", JsonSchemaType.Integer, "Images to make, with consecutive seeds (/v1/jobs: 1).", 1, 10),
        new("size", JsonSchemaType.String, "Image size.", Values: ImageRequest.Sizes),
        new("response_format", JsonSchemaType.String, "A signed link to the image, or the image itself in base64.", Values: ImageRequest.Formats),
        new("output_format", JsonSchemaType.String, "The image's encoding (/v1/images only).", Values: OutputFormat.Names),
        new("output_compression", JsonSchemaType.Integer, "Quality of jpeg and webp (100: best; webp lossless).", 0, 100),
        new("seed", JsonSchemaType.Integer, "The noise seed: the same request and seed give the same image.", 0, GenerationSpec.MaxSeed),
        new("deadline_seconds", JsonSchemaType.Number, "How long the request may take, queueing included.", 1, GenerationSpec.MaxDeadlineSeconds),
        new("stream", JsonSchemaType.Boolean, "/v1/images only: answer with server-sent events, partial images then the image (OpenAI's image streaming); n = 1."),
        new("partial_images", JsonSchemaType.Integer, "With stream: how many previews of the image as it forms to send before it (up to 256 px a side).", 0, ImageRequest.MaxPartialImages),
        new("previews", JsonSchemaType.Boolean, "/v1/jobs only: the job's progress events carry a PNG of the image as it forms (preview_b64_json, up to 256 px a side)."),
        new("ignore_unknown_words", JsonSchemaType.Boolean, "Draw the prompt without the words the model does not know instead of refusing it."),
        new("model", JsonSchemaType.String, "Accepted for OpenAI clients; the cluster serves one model."),
        new("quality", JsonSchemaType.String, "Accepted for OpenAI clients; ignored."),
        new("style", JsonSchemaType.String, "Accepted for OpenAI clients; ignored."),
        new("user", JsonSchemaType.String, "Accepted for OpenAI clients; ignored."),
        .. Stages.SelectMany(stage => new BodyField[]
        {
            new($"{stage}_steps", JsonSchemaType.Integer, $"Denoising steps of {stage} (default: the model folder's).", 1, SamplingOptions.MaxSteps),
            new($"{stage}_guidance", JsonSchemaType.Number, $"Classifier-free guidance weight of {stage}.", 0, SamplingOptions.MaxGuidance),
            new($"{stage}_thresholding", JsonSchemaType.String, $"Thresholding of {stage}'s estimates (none, static or dynamic)."),
            new($"{stage}_eta", JsonSchemaType.Number, $"DDIM eta of {stage} (0: deterministic, 1: DDPM-like).", 0, 1),
            new($"{stage}_solver", JsonSchemaType.String, $"The ODE solver of {stage}: ddim, or dpm++2m (DPM-Solver++ 2M, deterministic, fewer steps for the same picture).",
                Values: SamplingOptions.Solvers),
            new($"{stage}_aug", JsonSchemaType.Integer, $"Noise-augmentation level of {stage}'s low-resolution input.", 0, SamplingOptions.MaxAugmentationLevel),
        }),
        new("decoder64_layout", JsonSchemaType.Number, "Share of the 64 px decoder's trajectory held to the layout model's picture (0: none).", 0, 1),
    ];

    public static IEnumerable<string> Names => All.Select(f => f.Name);

    /// The fields each POST reads, by path, and the body's media type: the JSON bodies read these fields; the multipart
    /// ones their image files and operation settings (EditRequest) beside them.
    public static (string MediaType, IReadOnlyList<BodyField> Fields, string Required)? Body(string path) => path switch
    {
        "/v1/images/generations" or "/v1/jobs" => ("application/json", All, "prompt"),
        "/v1/images/edits" => ("multipart/form-data", [.. EditRequest.Fields, .. All], "image"),
        "/v1/images/variations" or "/v1/images/segmentations" => ("multipart/form-data", [EditRequest.Fields[0], .. All], "image"),
        _ => null,
    };

    /// Writes the body schema into the operations that read these fields.
    public static void AddSchemas(OpenApiOptions options) => options.AddOperationTransformer((operation, context, _) =>
    {
        var path = "/" + context.Description.RelativePath?.Trim('/');
        if (context.Description.HttpMethod != "POST" || Body(path) is not var (mediaType, fields, required)) return Task.CompletedTask;
        var schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            AdditionalPropertiesAllowed = false,
            Required = new HashSet<string> { required },
            Properties = fields.ToDictionary(f => f.Name, f => (IOpenApiSchema)new OpenApiSchema
            {
                Type = f.Type,
                Format = f.File ? "binary" : null,
                Description = f.Description,
                Minimum = f.Minimum?.ToString(CultureInfo.InvariantCulture),
                Maximum = f.Maximum?.ToString(CultureInfo.InvariantCulture),
                Enum = f.Values?.Select(v => (JsonNode)JsonValue.Create(v)!).ToList(),
            }),
        };
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType> { [mediaType] = new() { Schema = schema } },
        };
        return Task.CompletedTask;
    });
}
