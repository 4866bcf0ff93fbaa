using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Hosting;
using DiffusionCluster.Grains.Stages;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace DiffusionCluster.Grains.Tests;

/// An in-process cluster whose silos host different stage sets (silo i hosts stages[i]) on the tiny cascade. With
/// initialSilos, only the first silos start; AddSilo starts the next one.
public sealed class StageCluster : IAsyncDisposable
{
    StageCluster(InProcessTestCluster cluster) => Cluster = cluster;

    public InProcessTestCluster Cluster { get; }
    public IClusterClient Client => Cluster.Client;

    public static async Task<StageCluster> Start(string[] stagesPerSilo, Dictionary<string, string?>? settings = null, int? initialSilos = null)
    {
        var builder = new InProcessTestClusterBuilder((short)(initialSilos ?? stagesPerSilo.Length));
        builder.Options.GatewayPerSilo = false; // clients talk to silo 0, where request grains then live
        builder.ConfigureSiloHost((silo, host) =>
        {
            int index = int.Parse(silo.SiloName.Split('_')[1]);
            var values = new Dictionary<string, string?>(settings ?? [])
            {
                ["Silo:Stages"] = stagesPerSilo[index],
                ["Silo:ModelFolder"] = TinyCascadeFolder.Path,
                ["Silo:Threads"] = "1",
            };
            host.Configuration.AddInMemoryCollection(values);
        });
        builder.ConfigureSilo((_, silo) => silo.UseRequestStorage(new DiffusionCluster.ServiceDefaults.ClusterConnection()).AddCascadeStages().AddActivityPropagation());
        builder.ConfigureClient(client => client.AddActivityPropagation());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new StageCluster(cluster);
    }

    public async Task AddSilo() => await Cluster.StartAdditionalSiloAsync();

    public IGenerationGrain Request(Guid? id = null) => Client.GetGrain<IGenerationGrain>(id ?? Guid.NewGuid());

    /// The silo (as StageRun names it) and the stages it was configured with.
    public IReadOnlyDictionary<string, IReadOnlyCollection<CascadeStage>> HostedStages() =>
        Cluster.Silos.Where(s => s.IsActive).ToDictionary(
            s => s.SiloAddress.ToString(),
            s => s.ServiceProvider.GetRequiredService<HostedStages>().Stages);

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
}

public static class Specs
{
    /// Few steps: the cluster tests are about where and how work runs, not image quality.
    public static GenerationSpec Quick(int size = 64, ulong seed = 1, int steps = 2) => new()
    {
        Prompt = "a small red circle on a white background",
        Size = size,
        Seed = seed,
        Prior = new SamplingOptions(steps, 2.0, "none"),
        Decoder64 = new SamplingOptions(steps, 2.0, "dynamic:0.95:1.5", Layout: 0.5), // the tiny folder has a layout model: the guide runs in the grains
        Sr256 = new SamplingOptions(1, 1.0, "static", AugmentationLevel: 100),
        Sr1024 = new SamplingOptions(1, 1.0, "static", AugmentationLevel: 100),
    };
}
