using System.Security.Cryptography;
using System.Text;

namespace DiffusionCluster.Gateway.Apis;

/// When Gateway:ApiKeys is set, every /v1 request needs "Authorization: Bearer <key>" with one of them. An entry may
/// hold several keys separated by commas (the chart passes its Secret's value as one entry). The key a request
/// authenticated with owns the jobs it starts: another key is told they do not exist.
public sealed class ApiKeyMiddleware(RequestDelegate next, GatewayOptions options)
{
    const string OwnerItem = "DiffusionCluster.Owner";

    readonly byte[][] _keys = options.ApiKeys
        .SelectMany(k => k.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        .Select(Encoding.UTF8.GetBytes).ToArray();

    /// Who owns what this request starts: a digest of its API key, or "" where the gateway has no keys.
    public static string Owner(HttpContext context) => context.Items[OwnerItem] as string ?? "";

    public async Task InvokeAsync(HttpContext context)
    {
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

    /// The configured key the header carries, or null.
    byte[]? Authorised(string header)
    {
        // The scheme is case-insensitive (RFC 9110 section 11.1).
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        var given = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        return _keys.FirstOrDefault(k => CryptographicOperations.FixedTimeEquals(k, given));
    }
}
