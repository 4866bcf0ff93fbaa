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

    /// Maps what the cluster and the edge throw to status codes; a cluster error never becomes a 200.
    public static IResult From(Exception e, HttpContext context) => e switch
    {
        BadRequestException b => Result(b.Status, b.Message, "invalid_request_error", b.Param, b.Code),
        StageOverloadedException o => Overloaded(o, context),
        UnknownPromptWordsException u => Result(400, u.Message, "invalid_request_error", "prompt", "unknown_words"),
        ArgumentException a => Result(400, a.Message, "invalid_request_error", null, "invalid_value"),
        OperationCanceledException c when !context.RequestAborted.IsCancellationRequested =>
            Result(504, c.Message, "timeout_error", null, "deadline_exceeded"),
        _ => Result(503, $"the cluster could not complete the request: {e.Message}", "server_error", null, "cluster_error"),
    };

    static IResult Overloaded(StageOverloadedException e, HttpContext context)
    {
        context.Response.Headers.RetryAfter = Math.Ceiling(e.RetryAfterSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Result(429, e.Message, "overloaded_error", null, "stage_overloaded");
    }
}
