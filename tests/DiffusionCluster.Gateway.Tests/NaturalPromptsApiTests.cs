using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace DiffusionCluster.Gateway.Tests;

/// Prompts as people write them over HTTP: the caption drawn comes back as revised_prompt, unknown words are refused
/// by name (or left out and reported when asked), and the vocabulary is listed.
public sealed class NaturalPromptsApiTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    static object Body(string prompt, bool? ignore = null) => new Dictionary<string, object?>
    {
        ["prompt"] = prompt, ["size"] = "64x64", ["prior_steps"] = 2, ["decoder64_steps"] = 2, ["response_format"] = "b64_json", ["seed"] = 3,
        ["ignore_unknown_words"] = ignore,
    };

    async Task<(HttpStatusCode Status, JsonElement Body)> Post(object body)
    {
        var response = await server.Http.PostAsJsonAsync("/v1/images/generations", body);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task A_short_prompt_is_drawn_from_a_caption_that_names_the_whole_scene()
    {
        var (status, body) = await Post(Body("a star above a circle"));

        Assert.Equal(HttpStatusCode.OK, status);
        var revised = body.GetProperty("data")[0].GetProperty("revised_prompt").GetString()!;
        Assert.Matches("^an? .*star .* and an? .*circle .* on a .* background$", revised);
        Assert.False(body.GetProperty("data")[0].TryGetProperty("ignored_words", out _));
    }

    [Fact]
    public async Task Unknown_words_get_a_400_naming_each_word_and_where_the_vocabulary_is()
    {
        var (status, body) = await Post(Body("a fluffy red circle next to a square"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body.GetProperty("error");
        Assert.Equal("unknown_words", error.GetProperty("code").GetString());
        Assert.Equal("prompt", error.GetProperty("param").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("\"fluffy\"", message);
        Assert.Contains("\"next\"", message);
        Assert.Contains("/v1/vocabulary", message);
    }

    [Fact]
    public async Task Asked_to_go_on_the_gateway_draws_without_the_unknown_words_and_lists_them()
    {
        var (status, body) = await Post(Body("a fluffy red circle", ignore: true));

        Assert.Equal(HttpStatusCode.OK, status);
        var data = body.GetProperty("data")[0];
        Assert.Equal(["fluffy"], data.GetProperty("ignored_words").EnumerateArray().Select(w => w.GetString()));
        Assert.Contains("red circle", data.GetProperty("revised_prompt").GetString());
    }

    [Theory]
    [InlineData("four red circles", "at most 3")]
    [InlineData("a white circle on a blue background", "a white object is not among them")]
    public async Task Prompts_outside_the_models_world_get_a_400_naming_the_limit(string prompt, string message)
    {
        var (status, body) = await Post(Body(prompt));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task The_vocabulary_lists_the_words_by_role_and_the_worlds_limits()
    {
        var body = await server.Http.GetFromJsonAsync<JsonElement>("/v1/vocabulary");

        var words = body.GetProperty("words");
        Assert.Contains("circles", words.GetProperty("shapes").EnumerateArray().Select(w => w.GetString()));
        Assert.Contains("two", words.GetProperty("counts").EnumerateArray().Select(w => w.GetString()));
        Assert.Contains("above", words.GetProperty("relations").EnumerateArray().Select(w => w.GetString()));
        Assert.Equal(3, body.GetProperty("max_objects").GetInt32());
    }

    [Fact]
    public async Task A_job_with_unknown_words_is_refused_at_submission_and_a_job_reports_its_caption()
    {
        var refused = await server.Http.PostAsJsonAsync("/v1/jobs", new { prompt = "a fluffy red circle", size = "64x64" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("unknown_words", error.GetProperty("code").GetString());

        var accepted = await server.Http.PostAsJsonAsync("/v1/jobs", new { prompt = "a red circle", size = "64x64", prior_steps = 2, decoder64_steps = 2 });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var id = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        JsonElement status;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            await Task.Delay(100);
            status = await server.Http.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");
        }
        while (status.GetProperty("state").GetString() is "queued" or "running" && waited.Elapsed < TimeSpan.FromMinutes(2));
        Assert.Equal("completed", status.GetProperty("state").GetString());
        Assert.Contains("red circle", status.GetProperty("revised_prompt").GetString());
    }
}
