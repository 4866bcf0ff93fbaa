using System.Net;
using System.Text.Json;

namespace DiffusionCluster.Gateway.Tests;

/// /v1/models as OpenAI clients read it: the model folder the silos serve, its stages, and a 404 naming what is served.
public sealed class ModelsApiTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    static readonly string Served = Path.GetFileName(TinyCascadeFolder.Path);

    async Task<(HttpStatusCode Status, JsonElement Body)> Get(string path)
    {
        var response = await server.Http.GetAsync(path);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task The_list_names_the_served_model_with_its_stages()
    {
        var (status, body) = await Get("/v1/models");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("list", body.GetProperty("object").GetString());
        var model = Assert.Single(body.GetProperty("data").EnumerateArray());
        Assert.Equal(Served, model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.True(model.GetProperty("created").GetInt64() > 1_600_000_000);
        Assert.Equal(["text", "prior", "decoder64", "sr256", "sr1024"], model.GetProperty("stages").EnumerateArray().Select(s => s.GetString()!).ToArray());
    }

    [Fact]
    public async Task One_model_is_found_by_id_and_an_unknown_one_is_refused_naming_the_served_ones()
    {
        var (found, model) = await Get($"/v1/models/{Served}");
        var (missing, error) = await Get("/v1/models/dall-e-3");

        Assert.Equal(HttpStatusCode.OK, found);
        Assert.Equal(Served, model.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("model_not_found", error.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal($"the model \"dall-e-3\" is not served here; served: {Served}", error.GetProperty("error").GetProperty("message").GetString());
    }
}
