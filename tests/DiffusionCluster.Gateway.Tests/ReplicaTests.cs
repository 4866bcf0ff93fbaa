using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace DiffusionCluster.Gateway.Tests;

/// Jobs live in the cluster, not in the gateway that took them: another replica (a client of the same cluster)
/// answers for them with the same key rules, and `url` results are signed links that need no key.
public sealed class ReplicaTests
{
    static readonly Dictionary<string, string?> Keys = new() { ["Gateway:ApiKeys:0"] = "key-a,key-b" };

    static HttpRequestMessage Authorised(HttpMethod method, string path, string key, object? body = null) => new(method, path)
    {
        Headers = { Authorization = new AuthenticationHeaderValue("Bearer", key) },
        Content = body is null ? null : JsonContent.Create(body),
    };

    [Fact]
    public async Task Another_gateway_replica_answers_for_a_job_and_its_signed_link_needs_no_key()
    {
        await using var first = GatewayServer.With(Keys);
        await first.InitializeAsync();
        await using var second = GatewayServer.ReplicaOf(first, Keys);
        await second.InitializeAsync();
        var body = new { prompt = "a red circle", size = "64x64", prior_steps = 2, decoder64_steps = 2 };

        var made = await first.Http.SendAsync(Authorised(HttpMethod.Post, "/v1/images/generations", "key-a", body));
        Assert.Equal(HttpStatusCode.OK, made.StatusCode);
        var url = JsonDocument.Parse(await made.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0].GetProperty("url").GetString()!;
        var id = new Uri(url).Segments[^2].TrimEnd('/');

        // The other replica knows the job, for its key only.
        var status = await second.Http.SendAsync(Authorised(HttpMethod.Get, $"/v1/jobs/{id}", "key-a"));
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Equal("completed", (await status.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await second.Http.SendAsync(Authorised(HttpMethod.Get, $"/v1/jobs/{id}", "key-b"))).StatusCode);

        // The link works on either replica with no key at all, as the official OpenAI client fetches it.
        using var anonymous = new HttpClient();
        var onSecond = url.Replace(first.BaseUrl, second.BaseUrl);
        var image = await anonymous.GetAsync(onSecond);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType!.MediaType);

        // A forged or altered link is refused with a reason.
        var forged = await anonymous.GetAsync(onSecond[..^4] + "0000");
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Contains("signature is not valid", await forged.Content.ReadAsStringAsync());
        var unsigned = await anonymous.GetAsync($"{second.BaseUrl}/v1/jobs/{id}/image");
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
    }

    [Fact]
    public async Task A_job_submitted_to_one_replica_is_followed_to_its_end_on_another()
    {
        await using var first = GatewayServer.With([]);
        await first.InitializeAsync();
        await using var second = GatewayServer.ReplicaOf(first, []);
        await second.InitializeAsync();

        var submitted = await second.Http.PostAsJsonAsync("/v1/jobs", new { prompt = "a green star", size = "64x64", prior_steps = 2, decoder64_steps = 50 });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        // The replica that took it goes away; the job runs on in the cluster and the other gateway serves it.
        await second.DisposeAsync();

        var events = await first.Http.GetStringAsync($"/v1/jobs/{id}/events");
        Assert.Contains("event: done", events);
        Assert.Equal(HttpStatusCode.OK, (await first.Http.GetAsync($"/v1/jobs/{id}/image")).StatusCode);
    }
}
