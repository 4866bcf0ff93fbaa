using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace DiffusionCluster.Gateway.Tests;

/// Client mistakes are answered 4xx with an OpenAI-shaped body naming the problem, never as server errors.
public sealed class MalformedRequestTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    static async Task<JsonElement> Error(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Length > 0, $"{(int)response.StatusCode} came with an empty body");
        return JsonDocument.Parse(body).RootElement.GetProperty("error");
    }

    /// The bytes as sent, invalid ones included.
    static ByteArrayContent Json(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    [Theory]
    [InlineData("surrogate")]
    [InlineData("utf8")]
    public async Task Prompt_text_that_is_not_unicode_is_a_400_naming_the_field(string which)
    {
        byte[] body = which == "surrogate"
            ? Encoding.ASCII.GetBytes("{\"prompt\": \"a red circle \\ud800\"}")
            : [.. Encoding.ASCII.GetBytes("{\"prompt\": \"a red "), 0xC3, 0x28, .. Encoding.ASCII.GetBytes(" circle\"}")];

        var response = await server.Http.PostAsync("/v1/images/generations", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await Error(response);
        Assert.Equal("prompt", error.GetProperty("param").GetString());
        Assert.Contains("not valid Unicode text", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_unknown_path_and_a_wrong_method_get_shaped_bodies()
    {
        var missing = await server.Http.GetAsync("/v1/nothing");
        var wrongMethod = await server.Http.GetAsync("/v1/images/generations");

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("no such path: GET /v1/nothing", (await Error(missing)).GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("GET is not allowed on /v1/images/generations", (await Error(wrongMethod)).GetProperty("message").GetString());
    }

    [Fact]
    public async Task The_bearer_scheme_is_case_insensitive()
    {
        await using var keyed = GatewayServer.With(new() { ["Gateway:ApiKeys:0"] = "k-123" });
        await keyed.InitializeAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/vocabulary");
        request.Headers.TryAddWithoutValidation("Authorization", "bearer k-123");

        var response = await keyed.Http.SendAsync(request);

        Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_too_long_url_and_too_large_headers_get_shaped_414_and_431()
    {
        var longUrl = await server.Http.GetAsync("/v1/vocabulary?q=" + new string('a', 9000));
        var bigHeaders = new HttpRequestMessage(HttpMethod.Get, "/v1/vocabulary");
        bigHeaders.Headers.Add("X-Padding", new string('b', 40_000));
        var largeHeaders = await server.Http.SendAsync(bigHeaders);

        Assert.Equal(HttpStatusCode.RequestUriTooLong, longUrl.StatusCode);
        Assert.Equal("uri_too_long", (await Error(longUrl)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, largeHeaders.StatusCode);
        Assert.Contains("the limit is 32768", (await Error(largeHeaders)).GetProperty("message").GetString());
    }
}
