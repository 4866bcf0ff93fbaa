using System.Text.Json.Serialization;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Gateway.Jobs;

namespace DiffusionCluster.Gateway.Apis;

/// revised_prompt (OpenAI's field): the caption the image was drawn from, naming the whole scene the model chose;
/// ignored_words (ours): words of the prompt the model does not know, left out because the request asked to.
public sealed record ImageData(
    [property: JsonPropertyName("b64_json"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? B64Json,
    [property: JsonPropertyName("url"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Url,
    [property: JsonPropertyName("revised_prompt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RevisedPrompt = null,
    [property: JsonPropertyName("ignored_words"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? IgnoredWords = null)
{
    public static ImageData Of(GenerationResult result, string? b64Json, string? url) =>
        new(b64Json, url, result.Caption?.Caption, result.Caption is { IgnoredWords.Count: > 0 } c ? c.IgnoredWords : null);
}

/// Notes (ours, beside OpenAI's fields) say what the gateway did to an upload, e.g. resized it.
public sealed record ImagesResponse(
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("data")] IReadOnlyList<ImageData> Data,
    [property: JsonPropertyName("notes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Notes = null,
    [property: JsonPropertyName("output_format")] string OutputFormat = "png");

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
            .WithSummary("Create images from a prompt (OpenAI Images API, output_format png|jpeg|webp and output_compression included; stream: true with partial_images 0-3 answers with server-sent events; our seed and per-stage options accepted beside)");
        api.MapPost("/variations", Variations)
            .Accepts<object>("multipart/form-data").Produces<ImagesResponse>().Produces<ApiErrorBody>(400).Produces<ApiErrorBody>(413)
            .DisableAntiforgery()
            .WithSummary("Variations of an image (multipart: image, n, size, response_format; ours: prompt, seed, per-stage options)");
        api.MapPost("/edits", Edits)
            .Accepts<object>("multipart/form-data").Produces<ImagesResponse>().Produces<ApiErrorBody>(400).Produces<ApiErrorBody>(413)
            .DisableAntiforgery()
            .WithSummary("Edit an image (multipart: image, prompt, mask or transparency; ours: operation inpaint|sdedit|ilvr|textdiff|attribute|reconstruct|interpolate, "
                + "strength, ilvr_factor, ilvr_cutoff, resample, source_caption, attribute, amount, second_image, frames, interpolate_noise, inversion_steps)");
        api.MapPost("/segmentations", Segmentations)
            .Accepts<object>("multipart/form-data").Produces<ImagesResponse>().Produces<ApiErrorBody>(400).Produces<ApiErrorBody>(413)
            .DisableAntiforgery()
            .WithSummary("Segment an image (ours; multipart: image, response_format): a colour-coded 64x64 class mask PNG and its legend");
        return api;
    }

    static Task<IResult> Generations(HttpContext context, ImageLinks links, GatewayOptions options) =>
        Respond(context, links, async () => (ImageRequest.Parse(await ImageRequest.ReadBody(context.Request, options.MaxJsonBytes)), null));

    static Task<IResult> Variations(HttpContext context, ImageLinks links, GatewayOptions options) =>
        Respond(context, links, async () => EditRequest.Variations(await ImageUpload.Read(context, options)));

    static Task<IResult> Edits(HttpContext context, ImageLinks links, GatewayOptions options) =>
        Respond(context, links, async () => await EditRequest.Edits(await ImageUpload.Read(context, options), options, context.RequestAborted));

    static Task<IResult> Segmentations(HttpContext context, ImageLinks links, GatewayOptions options) =>
        Respond(context, links, async () => EditRequest.Segmentation(await ImageUpload.Read(context, options)));

    /// Parses the request (any problem becomes an OpenAI-shaped error naming the field), then runs it.
    static async Task<IResult> Respond(HttpContext context, ImageLinks links, Func<Task<(ImageRequest Request, List<string>? Notes)>> parse)
    {
        try
        {
            var (request, notes) = await parse();
            if (request.Previews)
                throw new BadRequestException("previews is for /v1/jobs (its event stream); here stream: true with partial_images sends previews", "previews");
            RequestLimits.CheckCost(request, context.RequestServices.GetRequiredService<GatewayOptions>().Limits);
            return request.Stream ? await ImageStream.Start(context, request) : await Run(context, links, request, notes);
        }
        catch (Exception e)
        {
            return ApiErrors.From(e, context);
        }
    }

    /// n images are n requests with consecutive seeds, run concurrently; the client leaving cancels them. Each is a
    /// job of the caller's key, so its `url` (a signed link) and /v1/jobs/{id} work from any gateway replica.
    static async Task<IResult> Run(HttpContext context, ImageLinks links, ImageRequest request, IReadOnlyList<string>? notes)
    {
        var grains = context.RequestServices.GetRequiredService<IGrainFactory>();
        var owner = ApiKeyMiddleware.Owner(context);
        var results = await Task.WhenAll(Enumerable.Range(0, request.N).Select(i =>
            grains.Generate(request.Spec with { Seed = request.Spec.Seed + (ulong)i }, Guid.NewGuid(), context.RequestAborted, owner)));
        var data = results.Select(r => request.ResponseFormat == "b64_json"
            ? ImageData.Of(r, Convert.ToBase64String(request.OutputFormat.Encode(r.Png)), null)
            : ImageData.Of(r, null, links.For(context, r.RequestId) + request.OutputFormat.Query)).ToList();
        return Results.Json(new ImagesResponse(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), data, notes is { Count: > 0 } ? notes : null, request.OutputFormat.Name));
    }
}
