using System.Text.Json.Serialization;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Apis;

/// OpenAI-style error body: {"error": {"message", "type", "param", "code"}}.
public sealed record ApiError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);

public sealed record ApiErrorBody([property: JsonPropertyName("error")] ApiError Error);

/// A request problem found at the edge, with the field it concerns.
public sealed class BadRequestException(string message, string? param = null, int status = StatusCodes.Status400BadRequest, string code = "invalid_value")
    : Exception(message)
{
    public string? Param { get; } = param;
    public int Status { get; } = status;
    public string Code { get; } = code;
}

public static class ApiErrors
{
    public static IResult Result(int status, string message, string type, string? param = null, string? code = null) =>
        Results.Json(new ApiErrorBody(new ApiError(message, type, param, code)), statusCode: status);

    /// Maps what the cluster and the edge throw to status codes; a cluster error never becomes a 200, and a server
    /// fault's details (hosts, exception types, a database's words) go to the log, not to the client.
    public static IResult From(Exception e, HttpContext context) => e switch
    {
        BadRequestException b => Result(b.Status, b.Message, "invalid_request_error", b.Param, b.Code),
        // Kestrel's verdicts on the request itself: 408 for a body sent too slowly, 413 for one too large, ...
        BadHttpRequestException h => Result(h.StatusCode, h.StatusCode == StatusCodes.Status408RequestTimeout
            ? "the request body arrived too slowly; send it at once" : h.Message, "invalid_request_error", null, "bad_request"),
        StageOverloadedException o => Overloaded(o, context),
        UnknownPromptWordsException u => Result(400, u.Message, "invalid_request_error", "prompt", "unknown_words"),
        ArgumentException a => Result(400, a.Message, "invalid_request_error", null, "invalid_value"),
        OperationCanceledException c when !context.RequestAborted.IsCancellationRequested =>
            Result(504, c.Message, "timeout_error", null, "deadline_exceeded"),
        // A silo lost mid-call, or the cluster slow to answer: the job is safe in the cluster; ask again shortly.
        TimeoutException or Orleans.Runtime.OrleansException => Unavailable(e, context),
        // The request grain's own verdicts (no host for a stage, ...) carry no inner cause and name only stages.
        InvalidOperationException { InnerException: null } i => Result(503, $"the cluster could not complete the request: {i.Message}", "server_error", null, "cluster_error"),
        _ => Hidden(e, context),
    };

    /// The body for a status set without one.
    public static IResult ForStatus(HttpContext context)
    {
        var (status, method, path) = (context.Response.StatusCode, context.Request.Method, context.Request.Path);
        var (message, code) = status switch
        {
            404 => ($"no such path: {method} {path}", "not_found"),
            405 => ($"{method} is not allowed on {path}", "method_not_allowed"),
            415 => ($"content type \"{context.Request.ContentType}\" is not accepted on {path}; send application/json (multipart/form-data for image uploads)", "unsupported_media_type"),
            _ => (Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status), "http_error"),
        };
        return Result(status, message, status >= 500 ? "server_error" : "invalid_request_error", null, code);
    }

    static IResult Hidden(Exception e, HttpContext context)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("DiffusionCluster.Gateway.Errors");
        logger.LogError(e, "Request {TraceId} failed in the cluster", context.TraceIdentifier);
        return Result(503, $"the cluster could not complete the request; the gateway log has the cause under request id {context.TraceIdentifier}",
            "server_error", null, "cluster_error");
    }

    static IResult Unavailable(Exception e, HttpContext context)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("DiffusionCluster.Gateway.Errors");
        logger.LogWarning(e, "Request {TraceId}: the cluster did not answer", context.TraceIdentifier);
        context.Response.Headers.RetryAfter = "5";
        return Result(503, "the cluster did not answer in time (a silo may be restarting); retry shortly", "server_error", null, "cluster_unavailable");
    }

    static IResult Overloaded(StageOverloadedException e, HttpContext context)
    {
        // Admission already spaces refused requests' returns (RetrySlots); a full stage queue's hint is spread here.
        context.Response.Headers.RetryAfter = e.SlotSeconds > 0
            ? Math.Ceiling(Math.Max(1, e.RetryAfterSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : RetryAfter.Spread(e.RetryAfterSeconds);
        return Result(429, e.Message, "overloaded_error", null, "stage_overloaded");
    }
}
