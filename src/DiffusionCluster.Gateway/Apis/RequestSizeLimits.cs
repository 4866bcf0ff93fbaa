namespace DiffusionCluster.Gateway.Apis;

/// Request line and header limits answered with OpenAI-shaped 414 and 431 bodies. Kestrel enforces the same kind of
/// limits itself but answers with an empty body, so its own limits are set 4x higher and these, Kestrel's defaults,
/// are checked here first; only a request beyond Kestrel's raised limits still gets its bare answer.
public static class RequestSizeLimits
{
    public const int MaxTargetCharacters = 8 * 1024;
    public const int MaxHeaderBytes = 32 * 1024;

    public static void RaiseKestrelLimits(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel)
    {
        kestrel.Limits.MaxRequestLineSize = 4 * MaxTargetCharacters;
        kestrel.Limits.MaxRequestHeadersTotalSize = 4 * MaxHeaderBytes;
    }

    public static IApplicationBuilder UseRequestSizeLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        int target = (request.PathBase.Value?.Length ?? 0) + (request.Path.Value?.Length ?? 0) + (request.QueryString.Value?.Length ?? 0);
        if (target > MaxTargetCharacters)
        {
            await ApiErrors.Result(414, $"the request target (path and query) is {target} characters; the limit is {MaxTargetCharacters}",
                "invalid_request_error", null, "uri_too_long").ExecuteAsync(context);
            return;
        }
        // Name, ": ", value and the line break of each header, as they arrived.
        long headers = request.Headers.Sum(h => h.Key.Length + 4L + h.Value.Sum(v => v?.Length ?? 0));
        if (headers > MaxHeaderBytes)
        {
            await ApiErrors.Result(431, $"the request headers take {headers} bytes; the limit is {MaxHeaderBytes}",
                "invalid_request_error", null, "headers_too_large").ExecuteAsync(context);
            return;
        }
        await next(context);
    });
}
