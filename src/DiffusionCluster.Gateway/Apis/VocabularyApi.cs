using DiffusionCluster.Abstractions;
using DiffusionCluster.Gateway.Jobs;

namespace DiffusionCluster.Gateway.Apis;

/// GET /v1/vocabulary: the words the model's prompt reader knows, asked of a silo hosting the text encoder (the
/// gateway may hold no model folder of its own).
public static class VocabularyApi
{
    public static void MapVocabularyApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/vocabulary", async (TextWorkers text, HttpContext context) =>
        {
            try
            {
                var vocabulary = await text.Vocabulary();
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

}
