using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Reliability;
using DiffusionCluster.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionCluster.Grains.Tests.MultiProcess;

/// `cluster silo --count N`: N silos in one process (how `bench scale` fits dozens on a small machine) join the
/// cluster as N members, each serving its stage, and leave it together on SIGTERM.
public sealed class PackedSilosTests
{
    [Fact]
    public async Task Three_silos_in_one_process_join_serve_and_leave_on_sigterm()
    {
        using var postgres = new LocalPostgres(Repository.Root());
        await ClusterSchema.Apply(postgres.ConnectionString);
        int port = 21000 + Random.Shared.Next(0, 4000);
        using var front = new SiloProcess("text,prior", postgres.ConnectionString, port, port + 100, TinyCascadeFolder.Path);
        await front.Started;
        using var packed = new ChildProcess("3 decoder64 silos", Repository.Cli(),
            ["cluster", "silo", "--count", "3", "--stages", "decoder64", "--connection", postgres.ConnectionString, "--model", TinyCascadeFolder.Path, "--threads", "1"],
            new Dictionary<string, string>(), "silo started: 3 silos");
        await packed.Start();

        using var client = await MultiProcessClusterTests.Client(postgres.ConnectionString);
        var grains = client.Services.GetRequiredService<IGrainFactory>();
        var router = new StageRouter(grains);

        var hosts = await WaitFor(router, CascadeStage.Decoder64, n => n == 3);
        Assert.Equal(3, hosts.Select(h => h.Silo).Distinct().Count());
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => grains.Generate(Specs.Quick(size: 64, seed: (ulong)i))));
        Assert.All(results, r => Assert.Contains(r.Stages.Single(s => s.Stage == CascadeStage.Decoder64).Silo, hosts.Select(h => SiloAddress(h.Silo))));

        await packed.Stop(TimeSpan.FromSeconds(60));
        Assert.Empty(await WaitFor(router, CascadeStage.Decoder64, n => n == 0));
    }

    /// The silo as StageRun names it (the address's display form) from its parsable form.
    static string SiloAddress(string parsable) => Orleans.Runtime.SiloAddress.FromParsableString(parsable).ToString();

    static async Task<IReadOnlyList<SiloDescription>> WaitFor(StageRouter router, CascadeStage stage, Func<int, bool> hostCount)
    {
        IReadOnlyList<SiloDescription> hosts = [];
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(90); await Task.Delay(500))
        {
            hosts = (await router.Candidates(stage, new HashSet<string>())).Hosts;
            if (hostCount(hosts.Count)) return hosts;
        }
        throw new TimeoutException($"{stage.Name()} had {hosts.Count} hosts after 90 s");
    }
}
