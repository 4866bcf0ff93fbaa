using System.Net;
using System.Text.Json;
using DiffusionCluster.Models.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionCluster.Gateway.Tests;

/// /v1/images/variations and /v1/images/edits as OpenAI clients send them (multipart), with our operations
/// and their settings, and the bad uploads they must refuse with the field and the range.
public sealed class ImageEditsApiTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    static byte[] Picture(int width, int height, Func<int, int, Rgba32> colour)
    {
        using var image = new Image<Rgba32>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = colour(x, y);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    static readonly byte[] Scene = Picture(64, 64, (x, y) => (x - 32) * (x - 32) + (y - 32) * (y - 32) < 200 ? new Rgba32(220, 40, 40) : new Rgba32(250, 250, 250));

    static MultipartFormDataContent Form(byte[] image, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(image), "image", "image.png" } };
        foreach (var (name, value) in fields.Concat([("decoder64_steps", "2"), ("prior_steps", "2"), ("response_format", "b64_json")]))
            form.Add(new StringContent(value), name);
        return form;
    }

    async Task<(HttpStatusCode Status, JsonElement Body)> Post(string path, MultipartFormDataContent form)
    {
        var response = await server.Http.PostAsync(path, form);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    static List<byte[]> Images(JsonElement body) =>
        body.GetProperty("data").EnumerateArray().Select(d => Convert.FromBase64String(d.GetProperty("b64_json").GetString()!)).ToList();

    [Fact]
    public async Task Variations_of_an_upload_of_another_size_are_made_with_a_note()
    {
        var upload = Picture(100, 80, (x, y) => x < 50 ? new Rgba32(40, 80, 220) : new Rgba32(250, 250, 250));

        var (status, body) = await Post("/v1/images/variations", Form(upload, ("n", "2"), ("size", "64x64")));

        Assert.Equal(HttpStatusCode.OK, status);
        var images = Images(body);
        Assert.Equal(2, images.Count);
        Assert.NotEqual(images[0], images[1]);
        using var first = Png.Decode(images[0]);
        Assert.Equal(new long[] { 3, 64, 64 }, first.shape);
        Assert.Equal("image was 100x80; centre-cropped to a square and resized to 64x64", body.GetProperty("notes")[0].GetString());
    }

    [Fact]
    public async Task An_edit_inpaints_where_the_mask_is_transparent_and_keeps_the_rest()
    {
        var mask = Picture(64, 64, (x, y) => y >= 32 ? new Rgba32(0, 0, 0, 0) : new Rgba32(0, 0, 0, 255));
        var form = Form(Scene, ("prompt", "a blue square"), ("size", "64x64"), ("resample", "2"));
        form.Add(new ByteArrayContent(mask), "mask", "mask.png");

        var (status, body) = await Post("/v1/images/edits", form);

        Assert.Equal(HttpStatusCode.OK, status);
        using var result = Png.Decode(Images(body)[0]);
        using var source = Png.Decode(Scene);
        using var kept = (result[.., ..32, ..] - source[.., ..32, ..]).abs().max();
        Assert.True(kept.item<float>() <= 1.0 / 127.5 + 1e-6, $"kept pixels moved by {kept.item<float>()}");
    }

    [Fact]
    public async Task Sdedit_and_ilvr_are_edit_operations()
    {
        var (sdedit, _) = await Post("/v1/images/edits", Form(Scene, ("prompt", "a red circle"), ("size", "64x64"), ("operation", "sdedit"), ("strength", "0.5")));
        var (ilvr, _) = await Post("/v1/images/edits", Form(Scene, ("prompt", "a red circle"), ("size", "64x64"), ("operation", "ilvr"), ("ilvr_factor", "8")));

        Assert.Equal(HttpStatusCode.OK, sdedit);
        Assert.Equal(HttpStatusCode.OK, ilvr);
    }

    [Fact]
    public async Task A_segmentation_returns_a_64_pixel_class_mask_and_an_attribute_edit_moves_the_image()
    {
        var (segmentation, mask) = await Post("/v1/images/segmentations", Form(Scene));
        var (attribute, _) = await Post("/v1/images/edits", Form(Scene, ("size", "64x64"), ("operation", "attribute"), ("attribute", "red"), ("amount", "0.5")));

        Assert.Equal(HttpStatusCode.OK, segmentation);
        using var image = Png.Decode(Images(mask)[0]);
        Assert.Equal(new long[] { 3, 64, 64 }, image.shape);
        Assert.Equal(HttpStatusCode.OK, attribute);
    }

    [Fact]
    public async Task Text_diffs_reconstructions_and_interpolations_are_edit_operations()
    {
        var second = Picture(64, 64, (x, y) => x < 32 ? new Rgba32(40, 80, 220) : new Rgba32(250, 250, 250));
        var interpolate = Form(Scene, ("size", "64x64"), ("operation", "interpolate"), ("frames", "3"), ("interpolate_noise", "false"), ("inversion_steps", "5"));
        interpolate.Add(new ByteArrayContent(second), "second_image", "second.png");

        var (textDiff, _) = await Post("/v1/images/edits", Form(Scene, ("prompt", "a blue circle"), ("size", "64x64"), ("operation", "textdiff"),
            ("source_caption", "a red circle"), ("amount", "0.25"), ("inversion_steps", "5")));
        var (reconstruct, _) = await Post("/v1/images/edits", Form(Scene, ("size", "64x64"), ("operation", "reconstruct"), ("inversion_steps", "5")));
        var (interpolated, strip) = await Post("/v1/images/edits", interpolate);

        Assert.Equal(HttpStatusCode.OK, textDiff);
        Assert.Equal(HttpStatusCode.OK, reconstruct);
        Assert.Equal(HttpStatusCode.OK, interpolated);
        using var frames = Png.Decode(Images(strip)[0]);
        Assert.Equal(new long[] { 3, 64, 3 * 64 }, frames.shape);
    }

    [Theory]
    [InlineData("source_caption", "source_caption is required for operation textdiff")]
    [InlineData("second_image", "second_image is required for operation interpolate")]
    [InlineData("interpolate_noise", "interpolate_noise must be true or false")]
    [InlineData("inversion_steps", "inversion_steps must be a whole number from 5 to 250")]
    [InlineData("attribute", "attribute is required for operation attribute")]
    [InlineData("no-mask", "the image has no transparent pixels to edit")]
    [InlineData("mask-size", "the mask is 32x32; it must match the image's 64x64")]
    [InlineData("strength", "strength must be a number from 0.05 to 1")]
    [InlineData("factor", "ILVR factor N = 3; allowed 1, 2, 4, 8, 16 or 32")]
    [InlineData("operation", "operation \"paint\" is not supported; allowed: inpaint, sdedit, ilvr, textdiff, attribute, reconstruct, interpolate")]
    [InlineData("prompt", "prompt is required")]
    [InlineData("other-operation", "strength is for operation sdedit; operation inpaint does not read it")]
    public async Task Bad_edits_are_refused_naming_the_problem_and_the_limit(string which, string expected)
    {
        var form = which switch
        {
            "source_caption" => Form(Scene, ("prompt", "a blue circle"), ("operation", "textdiff")),
            "second_image" => Form(Scene, ("operation", "interpolate")),
            "interpolate_noise" => Form(Scene, ("operation", "interpolate"), ("interpolate_noise", "sometimes")),
            "inversion_steps" => Form(Scene, ("operation", "reconstruct"), ("inversion_steps", "1")),
            "attribute" => Form(Scene, ("operation", "attribute")),
            "no-mask" => Form(Scene, ("prompt", "a red circle")),
            "mask-size" => Form(Scene, ("prompt", "a red circle")),
            "strength" => Form(Scene, ("prompt", "a red circle"), ("operation", "sdedit"), ("strength", "1.5")),
            "factor" => Form(Scene, ("prompt", "a red circle"), ("operation", "ilvr"), ("ilvr_factor", "3")),
            "operation" => Form(Scene, ("prompt", "a red circle"), ("operation", "paint")),
            "other-operation" => Form(Scene, ("prompt", "a red circle"), ("strength", "0.5")),
            _ => Form(Scene, ("operation", "sdedit")),
        };
        if (which == "interpolate_noise") form.Add(new ByteArrayContent(Scene), "second_image", "second.png");
        if (which == "mask-size") form.Add(new ByteArrayContent(Picture(32, 32, (_, _) => new Rgba32(0, 0, 0, 0))), "mask", "mask.png");

        var response = await server.Http.PostAsync("/v1/images/edits", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await ImagesApiTests.Message(response));
    }
}
