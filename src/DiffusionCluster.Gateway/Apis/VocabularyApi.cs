using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Requests;

namespace DiffusionCluster.Gateway.Apis;

/// GET /v1/vocabulary: the words the model's prompt reader knows, asked of a silo hosting the text encoder (the
/// gateway may hold no model folder of its own).
public static class VocabularyApi
{
    public static void MapVocabularyApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/vocabulary", async (IGrainFactory grains, HttpContext context) =>
        {
            try
            {
                var vocabulary = await (await TextWorker(grains)).GetVocabulary();
                return vocabulary is null
                    ? ApiErrors.Result(404, "this model reads prompts as they are written (its folder has no composer), so it has no fixed vocabulary", "invalid_request_error", null, "no_vocabulary")
                    : Results.Json(new { words = vocabulary.Words, max_objects = vocabulary.MaxObjects, repeated_colours = vocabulary.RepeatedColours });
            }
            catch (Exception e)
            {
                return ApiErrors.From(e, context);
            }
        }).WithTags("vocabulary");
    }

    /// The text encoder worker on the least-loaded silo hosting it.
    public static async Task<IStageWorkerGrain> TextWorker(IGrainFactory grains)
    {
        var (hosts, _) = await new StageRouter(grains).Candidates(CascadeStage.TextEncoder, new HashSet<string>()).WaitAsync(TimeSpan.FromSeconds(10));
        if (hosts.Count == 0) throw new InvalidOperationException("no active silo hosts stage text; start a silo with that stage");
        return grains.GetGrain<IStageWorkerGrain>($"{CascadeStage.TextEncoder.Name()}/{hosts[0].Silo}");
    }
}
