using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace DiffusionCluster.Gateway.Jobs;

/// Links to a job's PNG that need no bearer token until they expire (as OpenAI's `url` results, which last an hour),
/// signed with HMAC-SHA256 over the job id and expiry time so only a gateway of this deployment can make one. Every
/// replica must hold the same key: Gateway:UrlSigningKey, or by default one derived from the API keys, which the
/// replicas share anyway.
public sealed class ImageLinks(GatewayOptions options)
{
    readonly byte[] _key = SHA256.HashData(Encoding.UTF8.GetBytes(string.IsNullOrEmpty(options.UrlSigningKey)
        ? "diffusion-cluster image links\n" + string.Join("\n", options.ApiKeys.Order(StringComparer.Ordinal))
        : options.UrlSigningKey));

    public string For(HttpContext context, Guid id)
    {
        var expires = DateTimeOffset.UtcNow.AddMinutes(options.ImageUrlMinutes).ToUnixTimeSeconds();
        return $"{context.Request.Scheme}://{context.Request.Host}/v1/jobs/{id}/image?expires={expires}&signature={Sign(id, expires)}";
    }

    /// Why a signed link is refused, or null when it is good.
    public string? Refusal(Guid id, string? expires, string? signature)
    {
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || signature is null)
            return "an image link needs both expires and signature";
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(id, seconds)), Encoding.ASCII.GetBytes(signature)))
            return "the image link's signature is not valid";
        if (DateTimeOffset.UtcNow.ToUnixTimeSeconds() > seconds)
            return $"the image link expired at {DateTimeOffset.FromUnixTimeSeconds(seconds):u}; read the job again for a fresh one";
        return null;
    }

    string Sign(Guid id, long expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{id:D}\n{expires}")));
}
