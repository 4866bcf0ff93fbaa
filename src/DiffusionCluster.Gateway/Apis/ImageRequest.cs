using System.Text.Json;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Apis;

/// The body of POST /v1/images/generations (and /v1/jobs): OpenAI's fields, plus our own optional ones
/// (seed, per-stage steps, guidance and thresholding, and the decoder's layout share). Every field is checked here, so the error names
/// the field and its allowed values. Stream and PartialImages: OpenAI's streaming (/v1/images); Previews: the body's
/// `previews` (/v1/jobs' event stream). Either turns on the spec's previews.
public sealed record ImageRequest(GenerationSpec Spec, int N, string ResponseFormat, string? User, OutputFormat OutputFormat,
    bool Stream = false, int PartialImages = 0, bool Previews = false)
{
    public const int MaxPartialImages = 3;

    public static readonly string[] Sizes = GenerationSpec.Sizes.Select(s => $"{s}x{s}").ToArray();
    public static readonly string[] Formats = ["url", "b64_json"];
    static readonly string[] StageNames = CascadeStages.All.Where(s => s != CascadeStage.Text).Select(s => s.Name()).ToArray();

    /// extraFields: fields the caller reads itself (an edit's strength, ...); operation: the image operation, which
    /// makes the prompt optional for variations; defaultSize: the size when the body names none.
    public static ImageRequest Parse(JsonElement body, IEnumerable<string>? extraFields = null, ImageOperation? operation = null,
        string defaultSize = "1024x1024")
    {
        if (body.ValueKind != JsonValueKind.Object) throw new BadRequestException("the body must be a JSON object");
        var known = new HashSet<string>([.. ImageRequestFields.Names, .. extraFields ?? []]);
        foreach (var property in body.EnumerateObject())
            if (!known.Contains(property.Name))
                throw new BadRequestException($"unknown field \"{property.Name}\"", property.Name, code: "unknown_field");

        var prompt = String(body, "prompt") ?? (operation is { PromptOptional: true } ? "" : throw new BadRequestException("prompt is required", "prompt", code: "missing_field"));
        int n = Int(body, "n", 1, 1, 10);
        var size = String(body, "size") ?? defaultSize;
        if (!Sizes.Contains(size)) throw new BadRequestException($"size \"{size}\" is not supported; allowed: {string.Join(", ", Sizes)}", "size");
        var format = String(body, "response_format") ?? "url";
        if (!Formats.Contains(format)) throw new BadRequestException($"response_format \"{format}\" is not supported; allowed: {string.Join(", ", Formats)}", "response_format");
        var spec = new GenerationSpec
        {
            Prompt = prompt,
            Size = int.Parse(size[..size.IndexOf('x')]),
            Seed = (ulong)Long(body, "seed", 0, 0, (long)GenerationSpec.MaxSeed),
            DeadlineSeconds = Double(body, "deadline_seconds", 600, 1, GenerationSpec.MaxDeadlineSeconds),
            Sampling = StageNames.Aggregate(SamplingByStage.Default, (all, stage) => all.With(CascadeStages.Parse(stage), Sampling(body, stage))),
            Operation = operation,
            IgnoreUnknownWords = Bool(body, "ignore_unknown_words"),
        };
        bool stream = Bool(body, "stream", false), previews = Bool(body, "previews", false);
        int partialImages = Int(body, "partial_images", 0, 0, MaxPartialImages);
        if (partialImages > 0 && !stream) throw new BadRequestException("partial_images needs stream: true", "partial_images");
        if (stream && n != 1) throw new BadRequestException($"n = {n} with stream: a stream sends one image; make one request per image", "n");
        spec = spec with { Previews = previews || partialImages > 0 };
        // n images take consecutive seeds (ImagesApi.Run), and the last must still be a seed of its own.
        if (spec.Seed + (ulong)(n - 1) > GenerationSpec.MaxSeed)
            throw new BadRequestException($"seed {spec.Seed} with n = {n} needs seeds up to {spec.Seed + (ulong)(n - 1)}; the largest seed is {GenerationSpec.MaxSeed}", "seed");
        try
        {
            spec.Validate();
        }
        catch (ArgumentException e)
        {
            throw new BadRequestException(e.Message, e.Message.StartsWith("prompt", StringComparison.Ordinal) ? "prompt" : null);
        }
        var output = OutputFormat.Parse(String(body, "output_format"), Int(body, "output_compression", 100, 0, 100));
        return new ImageRequest(spec, n, format, String(body, "user"), output, stream, partialImages, previews);
    }

    /// Only the fields the body names are set; the rest take the model folder's defaults.
    static SamplingOptions Sampling(JsonElement body, string stage) => new(
        Has(body, $"{stage}_steps") ? Int(body, $"{stage}_steps", 0, 1, SamplingOptions.MaxSteps) : null,
        Has(body, $"{stage}_guidance") ? Double(body, $"{stage}_guidance", 0, 0, SamplingOptions.MaxGuidance) : null,
        String(body, $"{stage}_thresholding"),
        Has(body, $"{stage}_eta") ? Double(body, $"{stage}_eta", 0, 0, 1) : null,
        Has(body, $"{stage}_aug") ? Int(body, $"{stage}_aug", 0, 0, SamplingOptions.MaxAugmentationLevel) : null,
        stage == "decoder64" && Has(body, "decoder64_layout") ? Double(body, "decoder64_layout", 0, 0, 1) : null,
        Solver(body, $"{stage}_solver"));

    static string? Solver(JsonElement body, string name)
    {
        var solver = String(body, name);
        if (solver is not null && !SamplingOptions.Solvers.Contains(solver))
            throw new BadRequestException($"{name} \"{solver}\" is not supported; allowed: {string.Join(", ", SamplingOptions.Solvers)}", name);
        return solver;
    }

    static bool Bool(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return false;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new BadRequestException($"{name} must be true or false", name),
        };
    }

    static bool Has(JsonElement body, string name) => body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public static string? String(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw new BadRequestException($"{name} must be a string", name);
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape ("\ud800") or bytes that are not UTF-8: the client's text, not a server fault.
            throw new BadRequestException($"{name} is not valid Unicode text (a lone surrogate or invalid UTF-8)", name, code: "invalid_text");
        }
    }

    static long Long(JsonElement body, string name, long fallback, long min, long max)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return fallback;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number) || number < min || number > max)
            throw new BadRequestException($"{name} must be a whole number from {min} to {max}", name);
        return number;
    }

    public static int Int(JsonElement body, string name, int fallback, int min, int max) => (int)Long(body, name, fallback, min, max);

    public static double Double(JsonElement body, string name, double fallback, double min, double max)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return fallback;
        if (value.ValueKind != JsonValueKind.Number || !(value.GetDouble() is var number && number >= min && number <= max))
            throw new BadRequestException($"{name} must be a number from {min} to {max}", name);
        return value.GetDouble();
    }

    /// true or false: a JSON boolean, or the text "true" / "false" as a multipart form sends it.
    public static bool Bool(JsonElement body, string name, bool fallback)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return fallback;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(value.GetString(), out var parsed) => parsed,
            _ => throw new BadRequestException($"{name} must be true or false", name),
        };
    }

    /// Reads a JSON body up to a size limit, refusing a larger one before reading it when its length is declared.
    public static async Task<JsonElement> ReadBody(HttpRequest request, long limit)
    {
        if (request.ContentLength > limit)
            throw new BadRequestException($"the body is {request.ContentLength} bytes; the limit is {limit}", status: StatusCodes.Status413PayloadTooLarge, code: "body_too_large");
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
                throw new BadRequestException($"the body is over the limit of {limit} bytes", status: StatusCodes.Status413PayloadTooLarge, code: "body_too_large");
        }
        try
        {
            using var document = JsonDocument.Parse(buffer.ToArray());
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new BadRequestException($"the body is not valid JSON: {e.Message}", code: "invalid_json");
        }
    }
}
