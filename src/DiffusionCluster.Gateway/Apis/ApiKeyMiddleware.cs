using System.Security.Cryptography;
using System.Text;

namespace DiffusionCluster.Gateway.Apis;

/// When Gateway:ApiKeys is set, every /v1 request needs "Authorization: Bearer <key>" with one of them.
public sealed class ApiKeyMiddleware(RequestDelegate next, GatewayOptions options)
{
    readonly byte[][] _keys = options.ApiKeys.Where(k => k.Length > 0).Select(Encoding.UTF8.GetBytes).ToArray();

    public async Task InvokeAsync(HttpContext context)
    {
        if (_keys.Length > 0 && context.Request.Path.StartsWithSegments("/v1") && !Authorised(context.Request.Headers.Authorization.ToString()))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await ApiErrors.Result(401, "a valid API key is required: send Authorization: Bearer <key>", "invalid_request_error", null, "invalid_api_key")
                .ExecuteAsync(context);
            return;
        }
        await next(context);
    }

    bool Authorised(string header)
    {
        // The scheme is case-insensitive (RFC 9110 section 11.1).
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var given = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        return _keys.Any(k => CryptographicOperations.FixedTimeEquals(k, given));
    }
}
