using System.Net.ServerSentEvents;
using System.Text.Json.Serialization;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Gateway.Jobs;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace DiffusionCluster.Gateway.Apis;

/// One event of a streamed image request, as OpenAI's image streaming sends them: image_generation.partial_image (a
/// preview, partial_image_index from 0), image_generation.completed (the image), or error.
public sealed record ImageStreamEvent(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("b64_json"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? B64Json = null,
    [property: JsonPropertyName("created_at")] long CreatedAt = 0,
    [property: JsonPropertyName("size"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Size = null,
    [property: JsonPropertyName("output_format"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? OutputFormat = null,
    [property: JsonPropertyName("partial_image_index"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? PartialImageIndex = null,
    [property: JsonPropertyName("revised_prompt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RevisedPrompt = null,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ApiError? Error = null)
{
    public const string Partial = "image_generation.partial_image", Completed = "image_generation.completed", Failed = "error";
}

/// `stream: true` on /v1/images: the request starts now (or is refused, 429, as a plain request is) and the answer
/// is server-sent events: up to partial_images previews of the image as it forms, spread over the request's image
/// stages (each a new denoising step's estimate, up to 256 px a side, in the asked output_format; fewer when the
/// stages report fewer), then the image, or an error event naming why it failed. The client leaving cancels the
/// request.
public static class ImageStream
{
    /// Adds the event stream beside the JSON answer of the operations that stream (OpenAPI's 200 response).
    public static void AddResponses(OpenApiOptions options) => options.AddOperationTransformer(async (operation, context, cancellation) =>
    {
        var path = "/" + context.Description.RelativePath?.Trim('/');
        if (context.Description.HttpMethod != "POST" || !path.StartsWith("/v1/images/", StringComparison.Ordinal) || path.EndsWith("/segmentations", StringComparison.Ordinal)) return;
        if (operation.Responses?.TryGetValue("200", out var ok) != true || ok!.Content is null) return;
        ok.Content["text/event-stream"] = new OpenApiMediaType { Schema = await context.GetOrCreateSchemaAsync(typeof(ImageStreamEvent), null, cancellation) };
    });

    public static async Task<IResult> Start(HttpContext context, ImageRequest request)
    {
        var jobs = context.RequestServices.GetRequiredService<JobClient>();
        var interval = TimeSpan.FromMilliseconds(context.RequestServices.GetRequiredService<GatewayOptions>().ProgressIntervalMs);
        var owner = ApiKeyMiddleware.Owner(context);
        // A prompt the model cannot draw is refused now (400), not reported in the stream.
        if (request.Spec.HasPrompt) await context.RequestServices.GetRequiredService<TextWorkers>().CheckPrompt(request.Spec);
        var id = Guid.NewGuid();
        var started = await jobs.StartNow(id, request.Spec, owner);
        return TypedResults.ServerSentEvents(Events(jobs, id, owner, started, request, interval, context.RequestAborted));
    }

    static async IAsyncEnumerable<SseItem<ImageStreamEvent>> Events(JobClient jobs, Guid id, string owner, GenerationProgress started, ImageRequest request,
        TimeSpan interval, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken aborted)
    {
        var size = $"{request.Spec.Size}x{request.Spec.Size}";
        int sent = 0;
        byte[] last = [];
        bool ended = false;
        try
        {
            await foreach (var job in jobs.Follow(id, owner, started, interval, aborted))
            {
                ended = job.Ended;
                if (job.State == GenerationState.Completed)
                {
                    var result = await jobs.Result(id) ?? throw new InvalidOperationException($"request {id} completed without an image");
                    yield return Item(new ImageStreamEvent(ImageStreamEvent.Completed, Convert.ToBase64String(request.OutputFormat.Encode(result.Png)), Now(), size,
                        request.OutputFormat.Name, RevisedPrompt: result.Caption?.Caption));
                }
                else if (job.Ended)
                {
                    var (type, code) = job.State == GenerationState.Cancelled ? ("timeout_error", "cancelled") : ("server_error", "generation_failed");
                    yield return Item(new ImageStreamEvent(ImageStreamEvent.Failed, CreatedAt: Now(), Error: new ApiError(job.Error ?? "the request failed", type, null, code)));
                }
                else if (job.Preview is { } preview && sent < request.PartialImages && !preview.AsSpan().SequenceEqual(last)
                    && ImageStagesDone(job) >= (sent + 1.0) / (request.PartialImages + 1))
                {
                    last = preview;
                    yield return Item(new ImageStreamEvent(ImageStreamEvent.Partial, Convert.ToBase64String(request.OutputFormat.Encode(preview)), Now(), size,
                        request.OutputFormat.Name, PartialImageIndex: sent));
                    sent++;
                }
            }
        }
        finally
        {
            if (!ended) _ = jobs.Cancel(id);
        }
    }

    static SseItem<ImageStreamEvent> Item(ImageStreamEvent e) => new(e, e.Type);

    static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// The share of the request's image stages done, counting the running one's steps: what spaces the partial images.
    static double ImageStagesDone(GenerationProgress job)
    {
        var images = (job.Stages ?? []).Where(s => s is not (CascadeStage.Text or CascadeStage.Prior)).ToList();
        int at = job.Stage is { } stage ? images.IndexOf(stage) : -1;
        if (images.Count == 0 || at < 0) return 0;
        return (at + (job.TotalSteps > 0 ? (double)job.Step / job.TotalSteps : 0)) / images.Count;
    }
}
