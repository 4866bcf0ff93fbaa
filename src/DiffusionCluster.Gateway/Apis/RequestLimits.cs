using System.Globalization;
using System.Threading.RateLimiting;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Apis;

/// The "Gateway:Limits" section: how much one API key (one client address where the gateway has no keys) may ask
/// of the cluster. 0 turns a limit off.
public sealed class LimitOptions
{
    /// Generation requests (POST /v1/images/*, /v1/jobs) a key may start per minute (a token bucket: bursts up to it).
    public int RequestsPerMinute { get; set; } = 600;
    /// Generation requests of one key in flight at the gateway at once.
    public int ConcurrentRequests { get; set; } = 64;
    /// The most one request may cost: n x (size / 64)^2 x its stages' denoising steps, a stage whose steps the
    /// request does not name counted at AssumedStageSteps. The default admits ten 1024 px images at 50 steps a stage.
    public long MaxRequestCost { get; set; } = 10 * 256 * 200;
    public int AssumedStageSteps { get; set; } = 50;

    public void Validate()
    {
        if (RequestsPerMinute < 0) throw new ArgumentException($"Gateway:Limits:RequestsPerMinute = {RequestsPerMinute}; allowed 0 (no limit) or more");
        if (ConcurrentRequests < 0) throw new ArgumentException($"Gateway:Limits:ConcurrentRequests = {ConcurrentRequests}; allowed 0 (no limit) or more");
        if (MaxRequestCost < 0) throw new ArgumentException($"Gateway:Limits:MaxRequestCost = {MaxRequestCost}; allowed 0 (no limit) or more");
        if (AssumedStageSteps is < 1 or > SamplingOptions.MaxSteps)
            throw new ArgumentException($"Gateway:Limits:AssumedStageSteps = {AssumedStageSteps}; allowed 1 to {SamplingOptions.MaxSteps}");
    }
}

/// Per-key rate and concurrency limits (ASP.NET Core rate limiting) on the endpoints that start generations, and
/// the per-request cost cap. Rejections are OpenAI-shaped 429s with Retry-After.
public static class RequestLimits
{
    public static IServiceCollection AddRequestLimits(this IServiceCollection services, LimitOptions limits)
    {
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context => StartsGeneration(context) && limits.RequestsPerMinute > 0
                    ? RateLimitPartition.GetTokenBucketLimiter(Partition(context), _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = limits.RequestsPerMinute, TokensPerPeriod = limits.RequestsPerMinute,
                        ReplenishmentPeriod = TimeSpan.FromMinutes(1), QueueLimit = 0, AutoReplenishment = true,
                    })
                    : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context => StartsGeneration(context) && limits.ConcurrentRequests > 0
                    ? RateLimitPartition.GetConcurrencyLimiter(Partition(context), _ => new ConcurrencyLimiterOptions { PermitLimit = limits.ConcurrentRequests, QueueLimit = 0 })
                    : RateLimitPartition.GetNoLimiter("")));
            o.OnRejected = async (rejection, cancellation) =>
            {
                var context = rejection.HttpContext;
                var wait = rejection.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)) : 1;
                context.Response.Headers.RetryAfter = wait.ToString(CultureInfo.InvariantCulture);
                await ApiErrors.Result(429,
                    $"rate limit reached: a key may start {limits.RequestsPerMinute} generations a minute and have {limits.ConcurrentRequests} in flight (Gateway:Limits); retry after {wait} s",
                    "rate_limit_error", null, "rate_limit_exceeded").ExecuteAsync(context);
            };
        });
        return services;
    }

    /// Refuses a request over the cost cap, naming its cost, the cap and what to lower.
    public static void CheckCost(ImageRequest request, LimitOptions limits)
    {
        if (limits.MaxRequestCost == 0) return;
        var spec = request.Spec;
        var stages = new[] { CascadeStage.Prior, CascadeStage.Decoder64, CascadeStage.Sr256, CascadeStage.Sr1024 }
            .Where(s => s is CascadeStage.Prior or CascadeStage.Decoder64 || s == CascadeStage.Sr256 && spec.Size >= 256 || s == CascadeStage.Sr1024 && spec.Size >= 1024);
        long steps = stages.Sum(s => (long)(spec.Sampling[s].Steps ?? limits.AssumedStageSteps));
        long cost = request.N * (long)Math.Pow(spec.Size / 64.0, 2) * steps;
        if (cost > limits.MaxRequestCost)
            throw new BadRequestException(
                $"this request costs {cost:N0} (n {request.N} x (size {spec.Size} / 64)^2 x {steps} denoising steps over its stages); the limit is {limits.MaxRequestCost:N0} (Gateway:Limits:MaxRequestCost): lower n, the size or the steps",
                "n", code: "request_too_costly");
    }

    static bool StartsGeneration(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method) && (context.Request.Path.StartsWithSegments("/v1/images") || context.Request.Path.StartsWithSegments("/v1/jobs"));

    /// The API key's digest, or the client's address where the gateway has no keys.
    static string Partition(HttpContext context) =>
        ApiKeyMiddleware.Owner(context) is { Length: > 0 } owner ? owner : context.Connection.RemoteIpAddress?.ToString() ?? "";
}
