using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Stages;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionCluster.Gateway.Tests;

/// API keys, admission's 429 with Retry-After, rate limits, and a client that leaves cancelling its request.
public sealed class ProtectionTests
{
    /// The tiny cascade's sr256 (about 40 ms a step) for the given steps; other stages two steps.
    static object Slow(int steps) => new
    {
        prompt = "a red star", size = "256x256", prior_steps = 2, decoder64_steps = 2, sr256_steps = steps, response_format = "b64_json",
    };

    [Fact]
    public void A_progress_interval_out_of_range_is_refused_at_start_with_its_limits()
    {
        var error = Assert.Throws<ArgumentException>(() => GatewayApp.Build([], new Dictionary<string, string?> { ["Gateway:ProgressIntervalMs"] = "5" }));

        Assert.Equal("Gateway:ProgressIntervalMs = 5; allowed 10 to 10000", error.Message);
    }

    [Fact]
    public async Task With_api_keys_configured_v1_needs_a_valid_bearer_key()
    {
        await using var server = GatewayServer.With(new() { ["Gateway:ApiKeys:0"] = "k-123" });
        await server.InitializeAsync();

        var without = await server.Http.PostAsJsonAsync("/v1/images/generations", Slow(2));
        var wrong = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations") { Content = JsonContent.Create(Slow(2)) };
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "k-999");
        var right = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations") { Content = JsonContent.Create(Slow(2)) };
        right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "k-123");

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.SendAsync(wrong)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(right)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/health/live")).StatusCode); // probes need no key
    }

    [Fact]
    public async Task A_key_owns_its_jobs_and_one_entry_may_hold_several_keys()
    {
        // As the chart passes its Secret: one entry, comma-separated.
        await using var server = GatewayServer.With(new() { ["Gateway:ApiKeys:0"] = "k-alice, k-bob" });
        await server.InitializeAsync();
        HttpRequestMessage As(string key, HttpMethod method, string path, object? body = null)
        {
            var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return request;
        }

        var submitted = await server.Http.SendAsync(As("k-alice", HttpMethod.Post, "/v1/jobs", Slow(2)));
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var id = (await submitted.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(As("k-alice", HttpMethod.Get, $"/v1/jobs/{id}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.SendAsync(As("k-bob", HttpMethod.Get, $"/v1/jobs/{id}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.SendAsync(As("k-bob", HttpMethod.Delete, $"/v1/jobs/{id}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.SendAsync(As("k-bob", HttpMethod.Get, $"/v1/jobs/{id}/image"))).StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_client_that_disconnects_cancels_its_request_in_the_cluster(bool stream)
    {
        await using var server = GatewayServer.With([]);
        await server.InitializeAsync();
        var stages = server.App.Services.GetRequiredService<HostedStages>();
        using var leave = new CancellationTokenSource();

        // A streamed request's headers come at once; reading its events until the client leaves.
        object body = stream ? new { prompt = "a red star", size = "256x256", prior_steps = 2, decoder64_steps = 2, sr256_steps = 1000, stream = true } : Slow(1000);
        var request = Task.Run(async () =>
        {
            using var response = await server.Http.PostAsJsonAsync("/v1/images/generations", body, leave.Token);
            await response.Content.CopyToAsync(Stream.Null, leave.Token);
        });
        while (stages.Load()[CascadeStage.Sr256] == 0) await Task.Delay(10);
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (stages.Load()[CascadeStage.Sr256] > 0 && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(10);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"sr256 kept running {clock.Elapsed.TotalSeconds:F1} s after the client left");
    }

    [Fact]
    public async Task A_request_that_cannot_wait_for_the_work_ahead_is_refused_with_retry_after_and_a_job_is_queued_for_its_turn()
    {
        await using var server = GatewayServer.With([]);
        await server.InitializeAsync();
        var stages = server.App.Services.GetRequiredService<HostedStages>();
        using var stop = new CancellationTokenSource();
        // A long sr256 run: once it has computed for 2 s, sr256 costs at least 2 s a request.
        var busy = server.Http.PostAsJsonAsync("/v1/images/generations", Slow(1000), stop.Token);
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); stages.SecondsPerRequest().GetValueOrDefault(CascadeStage.Sr256) < 2; await Task.Delay(100))
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "sr256 never ran");

        // A 2 s deadline leaves 1.5 s to wait: less than the sr256 work ahead; a 64 px request never reaches sr256.
        var hurried = new { prompt = "a red star", size = "256x256", prior_steps = 2, decoder64_steps = 2, sr256_steps = 2, deadline_seconds = 2 };
        var refused = await server.Http.PostAsJsonAsync("/v1/images/generations", hurried);
        var queued = await server.Http.PostAsJsonAsync("/v1/jobs", hurried);
        var small = await server.Http.PostAsJsonAsync("/v1/jobs", new { prompt = "a red star", size = "64x64", prior_steps = 2, decoder64_steps = 2, deadline_seconds = 2 });
        var patient = await server.Http.PostAsJsonAsync("/v1/jobs", new { prompt = "a red star", size = "256x256", prior_steps = 2, decoder64_steps = 2, sr256_steps = 2 });
        var queuedStatus = await queued.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        var smallId = (await small.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString();
        var smallEnd = await WaitForEnd(server, smallId!);
        stop.Cancel();

        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        Assert.Equal("queued", queuedStatus.GetProperty("state").GetString());
        Assert.True(queuedStatus.GetProperty("start_after").GetInt64() >= DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5);
        // The 64 px job needs no sr256: it does not wait behind the queued 256 px job.
        Assert.Equal("completed", smallEnd);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Matches(@"saturated: stage sr256 has 1 requests ahead of this one, about \d+ s of work for its 1 hosts, more than the 2 s this request can wait",
            await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Accepted, small.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, patient.StatusCode);
    }

    /// Reads a job's status until it has ended (at most a minute): its final state.
    static async Task<string> WaitForEnd(GatewayServer server, string id)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(60); await Task.Delay(50))
        {
            var state = (await server.Http.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/jobs/{id}")).GetProperty("state").GetString()!;
            if (state is "completed" or "failed" or "cancelled") return state;
        }
        return "still running after a minute";
    }

    [Fact]
    public async Task A_key_over_its_rate_gets_429_and_other_keys_do_not()
    {
        await using var server = GatewayServer.With(new()
        {
            ["Gateway:ApiKeys:0"] = "fast,calm",
            ["Gateway:Limits:RequestsPerMinute"] = "2",
        });
        await server.InitializeAsync();
        HttpRequestMessage Post(string key) => new(HttpMethod.Post, "/v1/jobs")
        {
            Headers = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key) },
            Content = JsonContent.Create(new { prompt = "a red star", size = "64x64", prior_steps = 2, decoder64_steps = 2 }),
        };

        var fast = new List<HttpResponseMessage>();
        for (int i = 0; i < 3; i++) fast.Add(await server.Http.SendAsync(Post("fast")));
        var calm = await server.Http.SendAsync(Post("calm"));

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests], fast.Select(r => r.StatusCode));
        Assert.True(fast[2].Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Contains("rate_limit_exceeded", await fast[2].Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Accepted, calm.StatusCode);
    }

    [Fact]
    public async Task A_request_over_the_cost_cap_is_refused_naming_its_cost_and_the_limit()
    {
        await using var server = GatewayServer.With([]);
        await server.InitializeAsync();

        var response = await server.Http.PostAsJsonAsync("/v1/images/generations", new { prompt = "a red star", size = "1024x1024", n = 3, sr1024_steps = 1000 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("error");
        Assert.Equal("request_too_costly", error.GetProperty("code").GetString());
        Assert.Contains("costs 883,200", error.GetProperty("message").GetString());
        Assert.Contains("the limit is 512,000", error.GetProperty("message").GetString());
    }
}
