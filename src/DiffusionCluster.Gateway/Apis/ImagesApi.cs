using System.Text.Json.Serialization;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Gateway.Jobs;
using SixLabors.ImageSharp;

namespace DiffusionCluster.Gateway.Apis;

public sealed record ImageData(
    [property: JsonPropertyName("b64_json"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? B64Json,
    [property: JsonPropertyName("url"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Url);

public sealed record ImagesResponse([property: JsonPropertyName("created")] long Created, [property: JsonPropertyName("data")] IReadOnlyList<ImageData> Data);

/// The OpenAI-compatible Images API.
public static class ImagesApi
{
    public static RouteGroupBuilder MapImagesApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/v1/images").WithTags("images");
        api.MapPost("/generations", Generations)
            .Accepts<object>("application/json")
            .Produces<ImagesResponse>()
            .Produces<ApiErrorBody>(400).Produces<ApiErrorBody>(429).Produces<ApiErrorBody>(504)
            .WithSummary("Create images from a prompt (OpenAI Images API; our seed and per-stage options accepted beside)");
        api.MapPost("/variations", (HttpContext context, GatewayOptions options) => Unsupported(context, options, "variations"))
            .DisableAntiforgery().WithSummary("Variations of an image (multipart); not supported by the bundled model yet");
        api.MapPost("/edits", (HttpContext context, GatewayOptions options) => Unsupported(context, options, "edits"))
            .DisableAntiforgery().WithSummary("Edits of an image (multipart); not supported by the bundled model yet");
        return api;
    }

    static async Task<IResult> Generations(HttpContext context, JobStore jobs, GatewayOptions options)
    {
        try
        {
            var request = ImageRequest.Parse(await ImageRequest.ReadBody(context.Request, options.MaxJsonBytes));
            // n images are n requests with consecutive seeds, run concurrently; the client leaving cancels them.
            var ids = Enumerable.Range(0, request.N).Select(_ => Guid.NewGuid()).ToList();
            var runs = ids.Select((id, i) =>
            {
                var spec = request.Spec with { Seed = request.Spec.Seed + (ulong)i };
                return jobs.Track(id, spec, jobs.Grain(id).Generate(spec, context.RequestAborted)).Run;
            }).ToList();
            var results = await Task.WhenAll(runs);
            var data = results.Select(r => request.ResponseFormat == "b64_json"
                ? new ImageData(Convert.ToBase64String(r.Png), null)
                : new ImageData(null, $"{context.Request.Scheme}://{context.Request.Host}/v1/jobs/{r.RequestId}/image")).ToList();
            return Results.Json(new ImagesResponse(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), data));
        }
        catch (Exception e)
        {
            return ApiErrors.From(e, context);
        }
    }

    /// Checks the upload as carefully as if it were used (size, format, dimensions read from the header
    /// before any decoding, so a decompression bomb costs nothing), then says the operation is not there yet.
    static async Task<IResult> Unsupported(HttpContext context, GatewayOptions options, string operation)
    {
        try
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
            var file = form.Files.GetFile("image") ?? throw new BadRequestException("image is required (a PNG file field named \"image\")", "image", code: "missing_field");
            await using var stream = file.OpenReadStream();
            IImageInfo? info;
            try
            {
                info = await Image.IdentifyAsync(stream, context.RequestAborted);
            }
            catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException)
            {
                info = null;
            }
            if (info is null) throw new BadRequestException($"image \"{file.FileName}\" is not a readable PNG", "image", code: "invalid_image");
            long pixels = (long)info.Width * info.Height;
            if (info.Width > options.MaxUploadSide || info.Height > options.MaxUploadSide || pixels > options.MaxUploadPixels)
                throw new BadRequestException($"image is {info.Width}x{info.Height}; the limit is {options.MaxUploadSide} per side and {options.MaxUploadPixels} pixels", "image", code: "image_too_large");
            return ApiErrors.Result(400, $"image {operation} are not supported by this model yet; use /v1/images/generations", "invalid_request_error", null, "unsupported_operation");
        }
        catch (Exception e)
        {
            return ApiErrors.From(e, context);
        }
    }
}
