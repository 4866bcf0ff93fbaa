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
    [property: JsonPropertyName("ignored_words"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? IgnoredWords = null);

/// Long work: submit, read status and per-stage progress, stream it as server-sent events, cancel, fetch the PNG.
public static class JobsApi
{
    static readonly JsonSerializerOptions Json = new();

    public static RouteGroupBuilder MapJobsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/v1/jobs").WithTags("jobs");
        api.MapPost("/", Submit).Produces<JobStatus>(202).Produces<ApiErrorBody>(400)
            .WithSummary("Submit one generation (same body as /v1/images/generations, n = 1); answers at once");
        api.MapGet("/{id:guid}", async (Guid id, HttpContext context, JobStore jobs) =>
                jobs.Find(id, ApiKeyMiddleware.Owner(context)) is { } job ? Results.Json(await Status(job, jobs, context)) : NotFound(id))
            .Produces<JobStatus>().WithSummary("Status and per-stage progress");
        api.MapGet("/{id:guid}/events", Events).WithSummary("Progress as server-sent events (progress, then done or error)");
        api.MapDelete("/{id:guid}", async (Guid id, HttpContext context, JobStore jobs) =>
            {
                if (jobs.Find(id, ApiKeyMiddleware.Owner(context)) is null) return NotFound(id);
                await jobs.Grain(id).Cancel();
                return Results.Accepted($"/v1/jobs/{id}");
            })
            .WithSummary("Cancel: the request stops between denoising steps");
        api.MapGet("/{id:guid}/image", (Guid id, HttpContext context, JobStore jobs) => jobs.Find(id, ApiKeyMiddleware.Owner(context)) switch
            {
                null => NotFound(id),
                { Run.IsCompletedSuccessfully: true } job => Results.File(job.Run.Result.Png, "image/png"),
                { Run.IsCompleted: true } => ApiErrors.Result(409, $"job {id} ended without an image", "invalid_request_error", "id", "job_failed"),
                _ => ApiErrors.Result(409, $"job {id} is still running", "invalid_request_error", "id", "job_running"),
            })
            .Produces(200, contentType: "image/png").WithSummary("The PNG of a completed job");
        return api;
    }

    static IResult NotFound(Guid id) => ApiErrors.Result(404, $"no job {id} on this gateway", "invalid_request_error", "id", "job_not_found");

    static async Task<IResult> Submit(HttpContext context, JobStore jobs, GatewayOptions options, IGrainFactory grains)
    {
        try
        {
            var request = ImageRequest.Parse(await ImageRequest.ReadBody(context.Request, options.MaxJsonBytes));
            if (request.N != 1) throw new BadRequestException($"n = {request.N}; a job makes one image, submit one job per image", "n");
            // A prompt the model cannot draw is refused now, not reported later as a failed job.
            if (request.Spec.HasPrompt)
                await (await new StageRouter(grains).LeastLoadedWorker(CascadeStage.Text)).CheckPrompt(request.Spec.Prompt, request.Spec.Seed, request.Spec.IgnoreUnknownWords);
            var job = jobs.Start(request.Spec, ApiKeyMiddleware.Owner(context));
            return Results.Json(await Status(job, jobs, context), statusCode: 202);
        }
        catch (Exception e)
        {
            return ApiErrors.From(e, context);
        }
    }

    static async Task<JobStatus> Status(Job job, JobStore jobs, HttpContext context)
    {
        if (job.Run.IsCompletedSuccessfully)
        {
            var result = job.Run.Result;
            var stages = result.Stages.Select(s => s.Stage.Name()).Distinct().ToList();
            var timings = result.Stages.Select(s => new StageTiming(s.Stage.Name(), s.Silo, s.BatchSize, s.QueueMilliseconds, s.ComputeMilliseconds, s.Attempt)).ToList();
            return new JobStatus(job.Id, "completed", null, 0, 0, stages, timings, $"{context.Request.Scheme}://{context.Request.Host}/v1/jobs/{job.Id}/image", null,
                result.Caption?.Caption, result.Caption is { IgnoredWords.Count: > 0 } c ? c.IgnoredWords : null);
        }
        if (job.Run.IsCompleted)
        {
            // A cancelled call ends as a cancelled task without the reason; the request grain keeps it.
            var ended = await jobs.Grain(job.Id).GetProgress();
            var stages = (ended.Stages ?? []).Select(s => s.Name()).ToList();
            var cancelled = job.Run.IsCanceled || ended.State == GenerationState.Cancelled;
            var error = ended.Error ?? job.Run.Exception?.GetBaseException().Message ?? "cancelled";
            return new JobStatus(job.Id, cancelled ? "cancelled" : "failed", ended.Stage?.Name(), ended.Step, ended.TotalSteps, stages, null, null, error);
        }
        var progress = await jobs.Grain(job.Id).GetProgress();
        var planned = (progress.Stages ?? []).Select(s => s.Name()).ToList();
        return new JobStatus(job.Id, progress.State == GenerationState.NotStarted ? "queued" : "running", progress.Stage?.Name(), progress.Step, progress.TotalSteps, planned, null, null, null);
    }

    static async Task Events(Guid id, HttpContext context, JobStore jobs, GatewayOptions options)
    {
        if (jobs.Find(id, ApiKeyMiddleware.Owner(context)) is not { } job)
        {
            await NotFound(id).ExecuteAsync(context);
            return;
        }
        context.Response.Headers.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        string? last = null;
        var aborted = context.RequestAborted;
        while (!aborted.IsCancellationRequested)
        {
            var status = await Status(job, jobs, context);
            var json = JsonSerializer.Serialize(status, Json);
            bool done = status.State is "completed" or "failed" or "cancelled";
            if (json != last || done)
            {
                var name = done ? (status.State == "completed" ? "done" : "error") : "progress";
                await context.Response.WriteAsync($"event: {name}\ndata: {json}\n\n", aborted);
                await context.Response.Body.FlushAsync(aborted);
                last = json;
            }
            if (done) return;
            await Task.WhenAny(job.Run, Task.Delay(options.ProgressIntervalMs, aborted));
        }
    }
}
