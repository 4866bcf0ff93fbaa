using System.Threading.RateLimiting;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Apis;

/// The "Gateway:Limits" section: how much one API key (one client address where the gateway has no keys) may ask
/// of the cluster. 0 turns a limit off.
public sealed class LimitOptions
{
    /// Generation requests (POST /v1/images/*, /v1/jobs) a key may start per minute: a token bucket that holds a
    /// minute's worth (a burst) and refills evenly, a token every 60 / RequestsPerMinute s (at most a second's worth
    /// at a time), so a refused client is told to come back when its next request fits, not at the minute's end. A
    /// request that fits in the next 10 s of refill waits for its token at the gateway instead of being refused.
    public int RequestsPerMinute { get; set; } = 600;
    /// Synchronous generation requests (POST /v1/images/*) of one key in flight at the gateway at once; a job
    /// (POST /v1/jobs) is answered at once and runs in the cluster, where admission weighs it.
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
                    ? RateLimitPartition.GetTokenBucketLimiter(Partition(context), _ => Refill(limits.RequestsPerMinute))
                    : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context => StartsGeneration(context) && IsSynchronous(context) && limits.ConcurrentRequests > 0
                    ? RateLimitPartition.GetConcurrencyLimiter(Partition(context), _ => new ConcurrencyLimiterOptions { PermitLimit = limits.ConcurrentRequests, QueueLimit = 0 })
                    : RateLimitPartition.GetNoLimiter("")));
            o.OnRejected = async (rejection, cancellation) =>
            {
                var context = rejection.HttpContext;
                // The token bucket knows when the next token comes; a concurrency limit does not (a request in flight
                // ends when it ends), so that refusal says 1 s, spread like every Retry-After.
                var wait = RetryAfter.Spread(rejection.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter.TotalSeconds : 1);
                context.Response.Headers.RetryAfter = wait;
                await ApiErrors.Result(429,
                    $"rate limit reached: a key may start {limits.RequestsPerMinute} generations a minute and have {limits.ConcurrentRequests} synchronous ones in flight (Gateway:Limits); retry after {wait} s",
                    "rate_limit_error", null, "rate_limit_exceeded").ExecuteAsync(context);
            };
        });
        return services;
    }

    static TokenBucketRateLimiterOptions Refill(int perMinute)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, 60.0 / perMinute));
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute, ReplenishmentPeriod = period, AutoReplenishment = true,
            QueueLimit = perMinute / 6, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            TokensPerPeriod = Math.Max(1, (int)Math.Round(perMinute * period.TotalSeconds / 60)),
        };
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

    static bool IsSynchronous(HttpContext context) => context.Request.Path.StartsWithSegments("/v1/images");

    /// The API key's digest, or the client's address where the gateway has no keys.
    static string Partition(HttpContext context) =>
        ApiKeyMiddleware.Owner(context) is { Length: > 0 } owner ? owner : context.Connection.RemoteIpAddress?.ToString() ?? "";
}
