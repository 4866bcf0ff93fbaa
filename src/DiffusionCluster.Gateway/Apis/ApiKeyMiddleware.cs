using DiffusionCluster.Gateway.Jobs;
using System.Security.Cryptography;
using System.Text;

namespace DiffusionCluster.Gateway.Apis;

/// When Gateway:ApiKeys is set, every /v1 request needs "Authorization: Bearer <key>" with one of them. An entry may
/// hold several keys separated by commas (the chart passes its Secret's value as one entry). The key a request
/// authenticated with owns the jobs it starts: another key is told they do not exist. A job's image fetched by a
/// signed link (ImageLinks) needs no key; a link that is forged or expired is refused with 403.
public sealed class ApiKeyMiddleware(RequestDelegate next, GatewayOptions options, ImageLinks links)
{
    const string OwnerItem = "DiffusionCluster.Owner";
    const string SignedItem = "DiffusionCluster.SignedLink";

    readonly byte[][] _keys = options.ApiKeys
        .SelectMany(k => k.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        .Select(Encoding.UTF8.GetBytes).ToArray();

    /// Who owns what this request starts: a digest of its API key, or "" where the gateway has no keys.
    public static string Owner(HttpContext context) => context.Items[OwnerItem] as string ?? "";

    /// Whether this request is a checked signed image link.
    public static bool SignedLink(HttpContext context) => context.Items.ContainsKey(SignedItem);

    public async Task InvokeAsync(HttpContext context)
    {
        if (ImageLinkJob(context) is { } job && context.Request.Query.ContainsKey("signature"))
        {
            if (links.Refusal(job, context.Request.Query["expires"], context.Request.Query["signature"]) is { } refusal)
            {
                await ApiErrors.Result(403, refusal, "invalid_request_error", "signature", "invalid_link").ExecuteAsync(context);
                return;
            }
            context.Items[SignedItem] = true;
            await next(context);
            return;
        }
        if (_keys.Length > 0 && context.Request.Path.StartsWithSegments("/v1"))
        {
            if (Authorised(context.Request.Headers.Authorization.ToString()) is not { } key)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await ApiErrors.Result(401, "a valid API key is required: send Authorization: Bearer <key>", "invalid_request_error", null, "invalid_api_key")
                    .ExecuteAsync(context);
                return;
            }
            context.Items[OwnerItem] = Convert.ToHexString(SHA256.HashData(key));
        }
        await next(context);
    }

    /// The job id of a GET /v1/jobs/{id}/image request, or null.
    static Guid? ImageLinkJob(HttpContext context)
    {
        var segments = context.Request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return HttpMethods.IsGet(context.Request.Method) && segments is ["v1", "jobs", var id, "image"] && Guid.TryParse(id, out var job) ? job : null;
    }

    /// The configured key the header carries, or null.
    byte[]? Authorised(string header)
    {
        // The scheme is case-insensitive (RFC 9110 section 11.1).
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        var given = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        return _keys.FirstOrDefault(k => CryptographicOperations.FixedTimeEquals(k, given));
    }
}
