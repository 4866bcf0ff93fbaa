using System.Text.Json;
using System.Text.Json.Serialization;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Gateway.Jobs;

namespace DiffusionCluster.Gateway.Apis;

public sealed record StageTiming(
    [property: JsonPropertyName("stage")] string Stage,
    [property: JsonPropertyName("silo")] string Silo,
    [property: JsonPropertyName("batch_size")] int BatchSize,
    [property: JsonPropertyName("queue_ms")] double QueueMs,
    [property: JsonPropertyName("compute_ms")] double ComputeMs,
    [property: JsonPropertyName("attempt")] int Attempt);

public sealed record JobStatus(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("stage")] string? Stage,
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("total_steps")] int TotalSteps,
    [property: JsonPropertyName("stages")] IReadOnlyList<string> Stages,
    [property: JsonPropertyName("timings")] IReadOnlyList<StageTiming>? Timings,
    [property: JsonPropertyName("image_url")] string? ImageUrl,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("revised_prompt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RevisedPrompt = null,
    [property: JsonPropertyName("ignored_words"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? IgnoredWords = null,
    /// A queued job the saturated cluster booked for later: when it starts (Unix seconds).
    [property: JsonPropertyName("start_after"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? StartAfter = null,
    /// A running job that asked for previews: the latest reported denoising step's estimate of its image (PNG, base64).
    [property: JsonPropertyName("preview_b64_json"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Preview = null);

/// Long work: submit, read status and per-stage progress, stream it as server-sent events, cancel, fetch the PNG.
/// Jobs live in the cluster (JobClient), so any gateway replica answers for any job.
public static class JobsApi
{
    static readonly JsonSerializerOptions Json = new();

    public static RouteGroupBuilder MapJobsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/v1/jobs").WithTags("jobs");
        api.MapPost("/", Submit).Produces<JobStatus>(202).Produces<ApiErrorBody>(400)
            .WithSummary("Submit one generation (same body as /v1/images/generations, n = 1); answers at once");
        api.MapGet("/{id:guid}", (Guid id, HttpContext context, JobClient jobs, ImageLinks links) => Answer(context, async () =>
                await jobs.Find(id, ApiKeyMiddleware.Owner(context)) is { } job ? Results.Json(Status(id, job, context, links)) : NotFound(id)))
            .Produces<JobStatus>().Produces<ApiErrorBody>(404).WithSummary("Status and per-stage progress");
        api.MapGet("/{id:guid}/events", Events).WithSummary("Progress as server-sent events (progress, then done or error)");
        api.MapDelete("/{id:guid}", (Guid id, HttpContext context, JobClient jobs) => Answer(context, async () =>
            {
                if (await jobs.Find(id, ApiKeyMiddleware.Owner(context)) is null) return NotFound(id);
                await jobs.Cancel(id);
                return Results.Accepted($"/v1/jobs/{id}");
            }))
            .Produces(202).Produces<ApiErrorBody>(404)
            .WithSummary("Cancel: the request stops between denoising steps (202: asked; the job's status then reads cancelled)");
        api.MapGet("/{id:guid}/image", Image).Produces<byte[]>(200, "image/png", "image/jpeg", "image/webp")
            .WithSummary("The image of a completed job (PNG; ?format=jpeg|webp&compression=0-100 re-encodes it): with the bearer key that started it, or by the signed link its `url` gives");
        return api;
    }

    static IResult NotFound(Guid id) => ApiErrors.Result(404, $"no job {id}: it was never started, another key started it, or it ended longer ago than the cluster keeps results",
        "invalid_request_error", "id", "job_not_found");

    /// Runs a call to the cluster; what it throws becomes an OpenAI-shaped error (a silo lost mid-call: 503 to retry).
    static async Task<IResult> Answer(HttpContext context, Func<Task<IResult>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception e)
        {
            return ApiErrors.From(e, context);
        }
    }

    /// A signed link (ApiKeyMiddleware has checked it) stands in for the key that started the job.
    static Task<IResult> Image(Guid id, HttpContext context, JobClient jobs) => Answer(context, async () =>
    {
        var format = OutputFormat.FromQuery(context.Request.Query);
        var job = ApiKeyMiddleware.SignedLink(context)
            ? await jobs.Grain(id).GetProgress() is { Exists: true } p ? p : null
            : await jobs.Find(id, ApiKeyMiddleware.Owner(context));
        return job switch
        {
            null => NotFound(id),
            { State: GenerationState.Completed } => await jobs.Result(id) is { } result ? Results.File(format.Encode(result.Png), format.ContentType) : NotFound(id),
            { Ended: true } => ApiErrors.Result(409, $"job {id} ended without an image", "invalid_request_error", "id", "job_failed"),
            _ => ApiErrors.Result(409, $"job {id} is still running", "invalid_request_error", "id", "job_running"),
        };
    });

    static Task<IResult> Submit(HttpContext context, JobClient jobs, GatewayOptions options, TextWorkers text, ImageLinks links) => Answer(context, async () =>
    {
        var request = ImageRequest.Parse(await ImageRequest.ReadBody(context.Request, options.MaxJsonBytes));
        if (request.N != 1) throw new BadRequestException($"n = {request.N}; a job makes one image, submit one job per image", "n");
        if (request.Stream)
            throw new BadRequestException("stream is for /v1/images; a job's progress streams from GET /v1/jobs/{id}/events (previews: true adds the image as it forms)", "stream");
        if (request.OutputFormat.Name != OutputFormat.Png.Name)
            throw new BadRequestException("output_format is for /v1/images; a job's image comes in any format from GET /v1/jobs/{id}/image?format=webp&compression=80", "output_format");
        RequestLimits.CheckCost(request, options.Limits);
        // A prompt the model cannot draw is refused now, not reported later as a failed job.
        if (request.Spec.HasPrompt)
            await text.CheckPrompt(request.Spec);
        var id = Guid.NewGuid();
        var job = await jobs.Start(id, request.Spec, ApiKeyMiddleware.Owner(context));
        return Results.Json(Status(id, job, context, links), statusCode: 202);
    });

    static JobStatus Status(Guid id, GenerationProgress job, HttpContext context, ImageLinks links)
    {
        var planned = (job.Stages ?? []).Select(s => s.Name()).ToList();
        switch (job.State)
        {
            case GenerationState.Completed:
                var runs = job.Runs ?? [];
                var stages = runs.Select(s => s.Stage.Name()).Distinct().ToList();
                var timings = runs.Select(s => new StageTiming(s.Stage.Name(), s.Silo, s.BatchSize, s.QueueMilliseconds, s.ComputeMilliseconds, s.Attempt)).ToList();
                return new JobStatus(id, "completed", null, 0, 0, stages, timings, links.For(context, id), null,
                    job.Caption?.Caption, job.Caption is { IgnoredWords.Count: > 0 } c ? c.IgnoredWords : null);
            case GenerationState.Failed or GenerationState.Cancelled:
                return new JobStatus(id, job.State == GenerationState.Failed ? "failed" : "cancelled", job.Stage?.Name(), job.Step, job.TotalSteps, planned, null, null,
                    job.Error ?? "cancelled");
            default:
                return new JobStatus(id, job.State == GenerationState.NotStarted ? "queued" : "running", job.Stage?.Name(), job.Step, job.TotalSteps, planned, null, null, null,
                    StartAfter: job.StartAfter is { } turn && turn > DateTimeOffset.UtcNow ? turn.ToUnixTimeSeconds() : null,
                    Preview: job.Preview is { } preview ? Convert.ToBase64String(preview) : null);
        }
    }

    /// Sends the status whenever it changes (JobClient.Follow), until the job ends or the client leaves.
    static async Task Events(Guid id, HttpContext context, JobClient jobs, GatewayOptions options, ImageLinks links)
    {
        var owner = ApiKeyMiddleware.Owner(context);
        GenerationProgress? job;
        try
        {
            job = await jobs.Find(id, owner);
        }
        catch (Exception e)
        {
            await ApiErrors.From(e, context).ExecuteAsync(context);
            return;
        }
        if (job is null)
        {
            await NotFound(id).ExecuteAsync(context);
            return;
        }
        context.Response.Headers.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        string? last = null;
        var aborted = context.RequestAborted;
        try
        {
            await foreach (var progress in jobs.Follow(id, owner, job, TimeSpan.FromMilliseconds(options.ProgressIntervalMs), aborted))
            {
                var status = Status(id, progress, context, links);
                // The link's expiry changes every second; compare what the client cares about.
                var json = JsonSerializer.Serialize(status, Json);
                var comparable = JsonSerializer.Serialize(status with { ImageUrl = null }, Json);
                if (comparable == last && !progress.Ended) continue;
                var name = progress.Ended ? (status.State == "completed" ? "done" : "error") : "progress";
                await context.Response.WriteAsync($"event: {name}\ndata: {json}\n\n", aborted);
                await context.Response.Body.FlushAsync(aborted);
                last = comparable;
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
        }
    }
}
