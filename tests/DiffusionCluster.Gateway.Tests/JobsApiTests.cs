using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionCluster.Models.Imaging;

namespace DiffusionCluster.Gateway.Tests;

/// The job API: submit, progress as server-sent events, cancel, image.
public sealed class JobsApiTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    async Task<JsonElement> Submit(int decoderSteps, string size = "64x64", int sr256Steps = 1, bool previews = false)
    {
        var response = await server.Http.PostAsJsonAsync("/v1/jobs", new
        {
            prompt = "a small blue circle on a white background", size, prior_steps = 2, decoder64_steps = decoderSteps, sr256_steps = sr256Steps, previews,
        });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// Reads the event stream to its end: (event name, data) pairs in order.
    async Task<List<(string Event, JsonElement Data)>> Events(string id, Func<JsonElement, Task>? onProgress = null)
    {
        using var stream = await server.Http.GetStreamAsync($"/v1/jobs/{id}/events");
        using var reader = new StreamReader(stream);
        var events = new List<(string, JsonElement)>();
        string? name = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ")) name = line[7..];
            else if (line.StartsWith("data: "))
            {
                var data = JsonDocument.Parse(line[6..]).RootElement.Clone();
                events.Add((name!, data));
                if (name == "progress" && onProgress is not null) await onProgress(data);
            }
        }
        return events;
    }

    [Fact]
    public async Task A_job_streams_progress_stage_by_stage_then_done_with_timings_and_an_image()
    {
        var job = await Submit(decoderSteps: 400, size: "256x256");
        var id = job.GetProperty("id").GetString()!;

        var events = await Events(id);

        Assert.Equal("done", events[^1].Event);
        Assert.All(events[..^1], e => Assert.Equal("progress", e.Event));
        var order = new[] { "text", "prior", "decoder64", "sr256" };
        var seen = events[..^1].Select(e => e.Data.GetProperty("stage").GetString()).Where(s => s is not null).Select(s => Array.IndexOf(order, s)).ToList();
        Assert.Equal(seen.Order(), seen); // stages only move forward
        Assert.Contains(events, e => e.Data.GetProperty("stage").GetString() == "decoder64" && e.Data.GetProperty("step").GetInt32() > 0);
        var done = events[^1].Data;
        Assert.Equal(order, done.GetProperty("timings").EnumerateArray().Select(t => t.GetProperty("stage").GetString()));
        var image = await server.Http.GetAsync($"/v1/jobs/{id}/image");
        Assert.Equal("image/png", image.Content.Headers.ContentType!.MediaType);
        Assert.DoesNotContain(events, e => e.Data.TryGetProperty("preview_b64_json", out _)); // not asked for
    }

    [Fact]
    public async Task A_job_that_asks_for_previews_streams_each_stage_s_image_as_it_forms()
    {
        // Enough steps at each image stage for the workers to report several (at most four a second).
        var job = await Submit(decoderSteps: 300, size: "256x256", sr256Steps: 30, previews: true);

        var events = await Events(job.GetProperty("id").GetString()!);

        var previews = events.Where(e => e.Data.TryGetProperty("preview_b64_json", out _))
            .Select(e => (Stage: e.Data.GetProperty("stage").GetString(), Png: Convert.FromBase64String(e.Data.GetProperty("preview_b64_json").GetString()!)))
            .ToList();
        Assert.Contains(previews, p => p.Stage == "decoder64");
        Assert.Contains(previews, p => p.Stage == "sr256");
        // Each preview is the stage's own size (up to 256 px); the first sr256 event may still show decoder64's last.
        Assert.All(previews.Where(p => p.Stage == "decoder64"), p => Assert.Equal(new long[] { 3, 64, 64 }, Png.Decode(p.Png).shape));
        Assert.Equal(new long[] { 3, 256, 256 }, Png.Decode(previews[^1].Png).shape);
        Assert.False(events[^1].Data.TryGetProperty("preview_b64_json", out _)); // done: the image itself
    }

    [Fact]
    public async Task Cancelling_a_job_ends_its_stream_with_an_error_and_its_status_says_cancelled()
    {
        var job = await Submit(decoderSteps: 2, size: "256x256", sr256Steps: 1000);
        var id = job.GetProperty("id").GetString()!;
        bool cancelled = false;

        var events = await Events(id, async progress =>
        {
            if (!cancelled && progress.GetProperty("stage").GetString() == "sr256" && progress.GetProperty("step").GetInt32() > 0)
            {
                cancelled = true;
                Assert.Equal(HttpStatusCode.Accepted, (await server.Http.DeleteAsync($"/v1/jobs/{id}")).StatusCode);
            }
        });
        var status = JsonDocument.Parse(await server.Http.GetStringAsync($"/v1/jobs/{id}")).RootElement;

        Assert.True(cancelled);
        Assert.Equal("error", events[^1].Event);
        Assert.Equal("cancelled", status.GetProperty("state").GetString());
        Assert.Contains("cancelled during stage sr256", status.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await server.Http.GetAsync($"/v1/jobs/{id}/image")).StatusCode);
    }

    [Fact]
    public async Task An_unknown_job_is_a_404()
    {
        var response = await server.Http.GetAsync($"/v1/jobs/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("job_not_found", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_job_makes_one_image()
    {
        var response = await server.Http.PostAsJsonAsync("/v1/jobs", new { prompt = "a red star", n = 2 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("a job makes one image", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_job_names_its_image_format_when_the_image_is_fetched_not_when_submitted()
    {
        var response = await server.Http.PostAsJsonAsync("/v1/jobs", new { prompt = "a red star", output_format = "webp" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("GET /v1/jobs/{id}/image?format=webp", await response.Content.ReadAsStringAsync());
    }
}
