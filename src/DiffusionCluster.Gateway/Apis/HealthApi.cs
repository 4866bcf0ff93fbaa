using System.Text.Json.Serialization;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Apis;

/// What readiness reports: "ready", "degraded" (serving, but something works at reduced strength: a silo's request
/// storage failing, a silo not answering) or "unavailable"; the silos that answered, how many host each stage, and
/// what is degraded, in words.
public sealed record Readiness(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("silos")] int Silos,
    [property: JsonPropertyName("stages")] IReadOnlyDictionary<string, int> Stages,
    [property: JsonPropertyName("degraded")] IReadOnlyList<string> Degraded);

/// Kubernetes probes: live while the process serves HTTP; ready while some silo of the cluster answers (200 when
/// ready or degraded, so a degraded cluster keeps its gateways in service; 503 when no silo answers).
public static class HealthApi
{
    static readonly TimeSpan ClusterTimeout = TimeSpan.FromSeconds(8);

    public static void MapHealthApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health/live", () => Results.Text("live")).WithTags("health");
        routes.MapGet("/health/ready", async (IGrainFactory grains, StagesSeen seen) =>
        {
            SiloDescription?[] silos;
            try
            {
                silos = await new StageRouter(grains).DescribeAll().WaitAsync(ClusterTimeout);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return Results.Json(new Readiness("unavailable", 0, new Dictionary<string, int>(), ["the cluster did not answer"]), statusCode: 503);
            }
            var answered = silos.Where(s => s is not null).Select(s => s!).ToList();
            var stages = answered.SelectMany(s => s.Load.Keys).GroupBy(s => s.Name()).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
            if (answered.Count == 0)
                return Results.Json(new Readiness("unavailable", 0, stages, [silos.Length == 0 ? "no active silo" : $"none of {silos.Length} active silos answered"]), statusCode: 503);
            var degraded = answered.Where(s => s.Degraded is not null).Select(s => $"silo {s.Silo}: {s.Degraded}").ToList();
            if (answered.Count < silos.Length) degraded.Add($"{silos.Length - answered.Count} of {silos.Length} active silos did not answer");
            foreach (var stage in seen.Missing(stages))
                degraded.Add($"stage {stage} has no active host: requests that need it wait up to Silo:StageRecoverySeconds for one to join, then fail");
            return Results.Json(new Readiness(degraded.Count == 0 ? "ready" : "degraded", answered.Count, stages, degraded));
        }).WithTags("health").Produces<Readiness>(200).Produces<Readiness>(503);
    }
}

/// The stages this gateway has seen hosted since it started, so readiness can name one whose hosts are all gone
/// (the cluster itself does not say which stages a cascade needs).
public sealed class StagesSeen
{
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _stages = new();

    /// Records the stages hosted now; returns those seen before that have no host now.
    public IReadOnlyList<string> Missing(IReadOnlyDictionary<string, int> hostsNow)
    {
        foreach (var stage in hostsNow.Keys) _stages[stage] = true;
        return _stages.Keys.Where(stage => !hostsNow.ContainsKey(stage)).Order().ToList();
    }
}
