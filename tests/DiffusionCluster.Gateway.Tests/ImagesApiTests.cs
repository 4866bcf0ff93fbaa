using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DiffusionCluster.Models.Imaging;

namespace DiffusionCluster.Gateway.Tests;

/// POST /v1/images/generations as OpenAI clients send it, and the bad inputs a gateway must survive.
public sealed class ImagesApiTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    static object Quick(object? extra = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["prompt"] = "a large red star in the center on a white background", ["size"] = "64x64",
            ["prior_steps"] = 2, ["decoder64_steps"] = 2, ["sr256_steps"] = 1, ["sr1024_steps"] = 1,
        };
        if (extra is not null)
            foreach (var p in extra.GetType().GetProperties()) body[p.Name] = p.GetValue(extra);
        return body;
    }

    async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Post(string path, object body)
    {
        var response = await server.Http.PostAsJsonAsync(path, body);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response.StatusCode, json, response);
    }

    [Fact]
    public async Task Generations_answer_in_the_openai_shape_with_n_base64_images()
    {
        var (status, body, _) = await Post("/v1/images/generations", Quick(new { n = 2, response_format = "b64_json", model = "dall-e-2", user = "u1" }));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("created").GetInt64() > 1_700_000_000);
        var data = body.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(2, data.Count);
        var images = data.Select(d => Convert.FromBase64String(d.GetProperty("b64_json").GetString()!)).ToList();
        foreach (var png in images)
        {
            using var image = Png.Decode(png);
            Assert.Equal(new long[] { 3, 64, 64 }, image.shape);
        }
        Assert.NotEqual(images[0], images[1]); // consecutive seeds
        // Each PNG says what made it: the prompt, the caption drawn, its own seed, the size and the stage options set.
        var parameters = images.Select(png => JsonDocument.Parse(Png.Parameters(png)!).RootElement).ToList();
        Assert.Equal("a large red star in the center on a white background", parameters[0].GetProperty("prompt").GetString());
        Assert.Contains("star", parameters[0].GetProperty("revised_prompt").GetString());
        Assert.Equal(parameters[0].GetProperty("seed").GetUInt64() + 1, parameters[1].GetProperty("seed").GetUInt64());
        Assert.Equal(64, parameters[0].GetProperty("size").GetInt32());
        Assert.Equal(2, parameters[0].GetProperty("sampling").GetProperty("decoder64").GetProperty("steps").GetInt32());
    }

    [Fact]
    public async Task A_url_response_points_at_the_png()
    {
        var (status, body, _) = await Post("/v1/images/generations", Quick(new { response_format = "url", seed = 5 }));

        Assert.Equal(HttpStatusCode.OK, status);
        var url = body.GetProperty("data")[0].GetProperty("url").GetString()!;
        var png = await server.Http.GetAsync(url);
        Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);
        using var image = Png.Decode(await png.Content.ReadAsByteArrayAsync());
        Assert.Equal(64, image.shape[2]);
    }

    [Fact]
    public async Task Output_format_re_encodes_base64_images_and_urls_as_jpeg_or_webp()
    {
        // Compression 100 is lossless WebP: the very pixels of the PNG.
        var (status, body, _) = await Post("/v1/images/generations", Quick(new { response_format = "b64_json", output_format = "webp", output_compression = 100, seed = 3 }));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("webp", body.GetProperty("output_format").GetString());
        var webp = Convert.FromBase64String(body.GetProperty("data")[0].GetProperty("b64_json").GetString()!);
        Assert.Equal("WEBP", System.Text.Encoding.ASCII.GetString(webp, 8, 4)); // RIFF....WEBP
        var (_, pngBody, _) = await Post("/v1/images/generations", Quick(new { response_format = "b64_json", seed = 3 }));
        Assert.Equal("png", pngBody.GetProperty("output_format").GetString());
        var png = Convert.FromBase64String(pngBody.GetProperty("data")[0].GetProperty("b64_json").GetString()!);
        using (var fromPng = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(png))
        using (var fromWebp = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(webp))
        {
            int differing = 0;
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++)
                    if (!fromPng[x, y].Equals(fromWebp[x, y])) differing++;
            Assert.Equal(0, differing);
        }

        var (_, urlBody, _) = await Post("/v1/images/generations", Quick(new { output_format = "jpeg", output_compression = 50, seed = 3 }));
        var url = urlBody.GetProperty("data")[0].GetProperty("url").GetString()!;
        Assert.Contains("&format=jpeg&compression=50", url);
        var jpeg = await server.Http.GetAsync(url);
        Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType!.MediaType);
        var bytes = await jpeg.Content.ReadAsByteArrayAsync();
        Assert.Equal(new byte[] { 0xFF, 0xD8 }, bytes[..2]);

        var bad = await server.Http.GetAsync(url.Replace("format=jpeg", "format=gif"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("allowed: png, jpeg, webp", await bad.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"prompt":"a red star","output_format":"gif"}""", "output_format", "output_format \"gif\" is not supported; allowed: png, jpeg, webp")]
    [InlineData("""{"prompt":"a red star","output_format":"webp","output_compression":101}""", "output_compression", "output_compression must be a whole number from 0 to 100")]
    [InlineData("""{"size":"64x64"}""", "prompt", "prompt is required")]
    [InlineData("""{"prompt":"a red star","n":0}""", "n", "n must be a whole number from 1 to 10")]
    [InlineData("""{"prompt":"a red star","n":11}""", "n", "n must be a whole number from 1 to 10")]
    [InlineData("""{"prompt":"a red star","size":"512x512"}""", "size", "size \"512x512\" is not supported; allowed: 64x64, 256x256, 1024x1024")]
    [InlineData("""{"prompt":"a red star","response_format":"png"}""", "response_format", "allowed: url, b64_json")]
    [InlineData("""{"prompt":"a red star","decoder64_guidance":99}""", "decoder64_guidance", "decoder64_guidance must be a number from 0 to 50")]
    [InlineData("""{"prompt":"a red star","decoder64_layout":1.5}""", "decoder64_layout", "decoder64_layout must be a number from 0 to 1")]
    [InlineData("""{"prompt":"a red star","decoder64_solver":"euler"}""", "decoder64_solver", "decoder64_solver \"euler\" is not supported; allowed: ddim, dpm++2m")]
    [InlineData("""{"prompt":"a red star","prior_solver":"dpm++2m","prior_eta":0.5}""", null, "prior: eta = 0.5 needs solver ddim; dpm++2m is deterministic (eta 0)")]
    [InlineData("""{"prompt":"a red star","prior_layout":0.5}""", "prior_layout", "unknown field \"prior_layout\"")]
    [InlineData("""{"prompt":"a red star","colour":"red"}""", "colour", "unknown field \"colour\"")]
    [InlineData("""{"prompt":"   "}""", "prompt", "prompt is empty")]
    [InlineData("""{"prompt":"a red star","seed":4294967296}""", "seed", "seed must be a whole number from 0 to 4294967295")]
    [InlineData("""{"prompt":"a red star","seed":4294967295,"n":2}""", "seed", "seed 4294967295 with n = 2 needs seeds up to 4294967296; the largest seed is 4294967295")]
    public async Task Bad_fields_get_a_400_naming_the_field_and_the_allowed_values(string json, string? param, string message)
    {
        var response = await server.Http.PostAsync("/v1/images/generations", new StringContent(json, Encoding.UTF8, "application/json"));
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_50_MB_body_is_refused_with_413_and_the_gateway_keeps_serving()
    {
        // Expect: 100-continue, as careful clients send large bodies: the gateway answers from the declared
        // length without reading 50 MB (a client that streams regardless sees the connection closed after the 413).
        var huge = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations")
        {
            Content = new StringContent("{\"prompt\":\"" + new string('a', 50 * 1024 * 1024) + "\"}", Encoding.UTF8, "application/json"),
        };
        huge.Headers.ExpectContinue = true;

        var response = await server.Http.SendAsync(huge);
        var (next, _, _) = await Post("/v1/images/generations", Quick(new { response_format = "b64_json" }));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("the limit is 65536", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, next);
    }

    [Fact]
    public async Task Invalid_json_is_a_400()
    {
        var response = await server.Http.PostAsync("/v1/images/generations", new StringContent("{\"prompt\": ", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not valid JSON", await response.Content.ReadAsStringAsync());
    }

    internal static MultipartFormDataContent Upload(byte[] bytes, string name = "image.png")
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(bytes), "image", name);
        form.Add(new StringContent("a red star"), "prompt");
        return form;
    }

    /// A PNG signature and header chunk claiming width x height, with no pixel data: what a decompression bomb's header says.
    static byte[] PngHeader(int width, int height)
    {
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 2;
        var chunk = new List<byte>();
        chunk.AddRange(new byte[] { 0, 0, 0, 13 });
        var typed = Encoding.ASCII.GetBytes("IHDR").Concat(ihdr).ToArray();
        chunk.AddRange(typed);
        uint crc = Crc32(typed);
        chunk.AddRange(new[] { (byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc });
        return new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }.Concat(chunk).ToArray();
    }

    /// PNG's chunk checksum (ISO-HDLC CRC-32), so the crafted header is a valid chunk.
    static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public async Task Uploads_are_checked_before_decoding()
    {
        var bomb = await server.Http.PostAsync("/v1/images/variations", Upload(PngHeader(20000, 20000)));
        var notImage = await server.Http.PostAsync("/v1/images/edits", Upload(Encoding.UTF8.GetBytes("this is not a picture"), "fake.png"));

        Assert.Equal(HttpStatusCode.BadRequest, bomb.StatusCode);
        Assert.Contains("image is 20000x20000; the limit is 4096 per side", await Message(bomb));
        Assert.Equal(HttpStatusCode.BadRequest, notImage.StatusCode);
        Assert.Contains("\"fake.png\" is not a readable PNG", await Message(notImage));
    }

    internal static async Task<string> Message(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString()!;

    [Fact]
    public async Task A_truncated_multipart_upload_is_a_400()
    {
        var body = "--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n\u0089PNG";
        var content = new StringContent(body);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");

        var response = await server.Http.PostAsync("/v1/images/variations", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("truncated or malformed", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_and_the_openapi_document_are_served()
    {
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/health/live")).StatusCode);
        var ready = await server.Http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var readiness = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ready", readiness.GetProperty("status").GetString());
        Assert.Equal(1, readiness.GetProperty("silos").GetInt32());
        Assert.Equal(1, readiness.GetProperty("stages").GetProperty("decoder64").GetInt32());
        Assert.Empty(readiness.GetProperty("degraded").EnumerateArray());
        var openapi = await server.Http.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/v1/images/generations", openapi);
        Assert.Contains("/v1/jobs/{id}/events", openapi);
        var paths = JsonDocument.Parse(openapi).RootElement.GetProperty("paths");
        var cancel = paths.GetProperty("/v1/jobs/{id}").GetProperty("delete").GetProperty("responses");
        Assert.Equal(["202", "404"], cancel.EnumerateObject().Select(r => r.Name).Order().ToArray());
        Assert.True(paths.TryGetProperty("/v1/models", out _));
        // A generation answers JSON, or server-sent events when it streams.
        var generated = paths.GetProperty("/v1/images/generations").GetProperty("post").GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.Equal(["application/json", "text/event-stream"], generated.EnumerateObject().Select(c => c.Name).Order().ToArray());
    }

    [Fact]
    public async Task A_streamed_generation_sends_its_partial_images_then_the_image_as_openai_streams_them()
    {
        // Enough decoder steps for the worker to report several previews (at most four a second).
        var body = Quick(new { stream = true, partial_images = 2, decoder64_steps = 400, output_format = "webp", output_compression = 100 });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations") { Content = JsonContent.Create(body) };
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);

        var events = new List<(string Event, JsonElement Data)>();
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync())
            events.Add((item.EventType, JsonDocument.Parse(item.Data).RootElement.Clone()));

        Assert.Equal(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"], events.Select(e => e.Event));
        Assert.All(events, e => Assert.Equal(e.Event, e.Data.GetProperty("type").GetString()));
        Assert.Equal([0, 1], events[..2].Select(e => e.Data.GetProperty("partial_image_index").GetInt32()));
        Assert.All(events, e => Assert.Equal(("64x64", "webp"), (e.Data.GetProperty("size").GetString(), e.Data.GetProperty("output_format").GetString())));
        var images = events.Select(e => Convert.FromBase64String(e.Data.GetProperty("b64_json").GetString()!)).ToList();
        Assert.NotEqual(images[0], images[1]); // each partial image a later estimate
        Assert.All(images, bytes => Assert.Equal("image/webp", SixLabors.ImageSharp.Image.DetectFormat(bytes).DefaultMimeType));
        Assert.All(images, bytes => Assert.Equal((64, 64), SixLabors.ImageSharp.Image.Identify(bytes) is var info ? (info.Width, info.Height) : default));
        Assert.Contains("star", events[^1].Data.GetProperty("revised_prompt").GetString());
    }

    [Theory]
    [InlineData("/v1/images/generations", "{\"prompt\":\"a red star\",\"stream\":true,\"n\":2}", "n", "a stream sends one image")]
    [InlineData("/v1/images/generations", "{\"prompt\":\"a red star\",\"partial_images\":2}", "partial_images", "partial_images needs stream: true")]
    [InlineData("/v1/images/generations", "{\"prompt\":\"a red star\",\"previews\":true}", "previews", "previews is for /v1/jobs")]
    [InlineData("/v1/jobs", "{\"prompt\":\"a red star\",\"stream\":true}", "stream", "stream is for /v1/images")]
    [InlineData("/v1/images/generations", "{\"prompt\":\"a red star\",\"stream\":\"yes\"}", "stream", "stream must be true or false")]
    public async Task Streaming_and_preview_fields_out_of_place_are_refused_naming_the_field(string path, string json, string param, string message)
    {
        var response = await server.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task The_generation_body_schema_lists_every_field_with_the_limits_the_parser_enforces()
    {
        var openapi = JsonDocument.Parse(await server.Http.GetStringAsync("/openapi/v1.json")).RootElement;
        foreach (var path in new[] { "/v1/images/generations", "/v1/jobs" })
        {
            var schema = openapi.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("requestBody")
                .GetProperty("content").GetProperty("application/json").GetProperty("schema");
            Assert.Equal(Apis.ImageRequestFields.Names.Order(), schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
            Assert.False(schema.GetProperty("additionalProperties").GetBoolean());
        }
        // The multipart bodies: the image file and each edit setting beside the generation fields.
        foreach (var path in new[] { "/v1/images/edits", "/v1/images/variations", "/v1/images/segmentations" })
        {
            var schema = openapi.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("requestBody")
                .GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema");
            Assert.Equal(Apis.ImageRequestFields.Body(path)!.Value.Fields.Select(f => f.Name).Order(),
                schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
            Assert.Equal("binary", schema.GetProperty("properties").GetProperty("image").GetProperty("format").GetString());
            Assert.Equal(["image"], schema.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        }
        var strength = openapi.GetProperty("paths").GetProperty("/v1/images/edits").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema").GetProperty("properties").GetProperty("strength");
        Assert.Equal((0.05, 1.0), (strength.GetProperty("minimum").GetDouble(), strength.GetProperty("maximum").GetDouble()));
        var n = openapi.GetProperty("paths").GetProperty("/v1/images/generations").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("properties").GetProperty("n");
        Assert.Equal(("integer", 1, 10), (n.GetProperty("type").GetString(), n.GetProperty("minimum").GetInt32(), n.GetProperty("maximum").GetInt32()));

        // Each bounded field: one past either end is refused, and the error names the schema's range.
        foreach (var field in Apis.ImageRequestFields.All.Where(f => f.Minimum is not null))
        foreach (var outside in new[] { field.Minimum!.Value - 1, field.Maximum!.Value + 1 })
        {
            var json = $"{{\"prompt\":\"a red star\",\"{field.Name}\":{outside.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}";
            var response = await server.Http.PostAsync("/v1/images/generations", new StringContent(json, Encoding.UTF8, "application/json"));
            var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains($"from {field.Minimum} to {field.Maximum}", message);
        }
    }
}
