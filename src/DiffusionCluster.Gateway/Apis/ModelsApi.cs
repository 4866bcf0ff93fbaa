using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Apis;

/// GET /v1/models and /v1/models/{id} as OpenAI defines them: the models the cluster's silos serve (a model folder's
/// name), from the gateway's latest round of silo descriptions; ours: the stages each serves and on how many silos.
public static class ModelsApi
{
    public sealed record ModelObject(string id, string @object, long created, string owned_by, IReadOnlyList<string> stages, int silos);

    public sealed record ModelList(string @object, IReadOnlyList<ModelObject> data);

    public static void MapModelsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/models", async (IGrainFactory grains, HttpContext context) =>
        {
            try
            {
                return Results.Json(new ModelList("list", await Served(grains)));
            }
            catch (Exception e)
            {
                return ApiErrors.From(e, context);
            }
        }).WithTags("models").Produces<ModelList>().Produces<ApiErrorBody>(503)
          .WithSummary("The models the cluster serves (OpenAI's list; ours: stages and silos per model)");
        routes.MapGet("/v1/models/{id}", async (string id, IGrainFactory grains, HttpContext context) =>
        {
            try
            {
                var models = await Served(grains);
                return models.FirstOrDefault(m => m.id == id) is { } model
                    ? Results.Json(model)
                    : ApiErrors.Result(404, $"the model \"{id}\" is not served here; served: {string.Join(", ", models.Select(m => m.id))}",
                        "invalid_request_error", "model", "model_not_found");
            }
            catch (Exception e)
            {
                return ApiErrors.From(e, context);
            }
        }).WithTags("models").Produces<ModelObject>().Produces<ApiErrorBody>(404).Produces<ApiErrorBody>(503)
          .WithSummary("One model the cluster serves");
    }

    /// One entry per model folder name the silos report, its stages in cascade order.
    static async Task<List<ModelObject>> Served(IGrainFactory grains)
    {
        var silos = (await new StageRouter(grains).DescribeAll()).OfType<SiloDescription>().Where(d => d.Model is not null).ToList();
        return silos.GroupBy(d => d.Model!).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new ModelObject(
            g.Key, "model", g.Max(d => d.ModelCreated), "diffusioncluster",
            g.SelectMany(d => d.Load.Keys).Distinct().Order().Select(s => s.Name()).ToList(), g.Count())).ToList();
    }
}
