using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Requests;

namespace DiffusionCluster.Gateway.Apis;

/// The edge's way to the text encoder stage for what it asks before any request runs (the vocabulary, a prompt check).
public static class TextWorkers
{
    /// The text encoder worker on the least-loaded silo hosting it.
    public static async Task<IStageWorkerGrain> LeastLoaded(IGrainFactory grains)
    {
        var (hosts, _) = await new StageRouter(grains).Candidates(CascadeStage.TextEncoder, new HashSet<string>()).WaitAsync(TimeSpan.FromSeconds(10));
        if (hosts.Count == 0) throw new InvalidOperationException("no active silo hosts stage text; start a silo with that stage");
        return grains.GetGrain<IStageWorkerGrain>($"{CascadeStage.TextEncoder.Name()}/{hosts[0].Silo}");
    }
}
