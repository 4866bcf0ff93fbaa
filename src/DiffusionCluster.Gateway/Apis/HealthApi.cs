using Orleans.Runtime;

namespace DiffusionCluster.Gateway.Apis;

/// Kubernetes probes: live while the process serves HTTP; ready only once the cluster answers.
public static class HealthApi
{
    public static void MapHealthApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health/live", () => Results.Text("live")).WithTags("health");
        routes.MapGet("/health/ready", async (IGrainFactory grains) =>
        {
            try
            {
                var silos = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(2));
                return silos.Count > 0 ? Results.Text($"ready: {silos.Count} silo(s)") : Results.Text("no active silo", statusCode: 503);
            }
            catch (Exception e)
            {
                return Results.Text($"cluster unreachable: {e.Message}", statusCode: 503);
            }
        }).WithTags("health");
    }
}
