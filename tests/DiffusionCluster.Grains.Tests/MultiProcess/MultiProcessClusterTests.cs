using DiffusionCluster.ServiceDefaults;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Hosting;
using DiffusionCluster.Grains.Placement;
using DiffusionCluster.Models.Imaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace DiffusionCluster.Grains.Tests.MultiProcess;

/// Real silo processes clustered through a real PostgreSQL, and a client in this test process.
public sealed class MultiProcessClusterTests
{
    [Fact]
    public async Task Killing_a_stage_silo_mid_request_loses_no_request()
    {
        using var postgres = new PostgresServer();
        await ClusterSchema.Apply(postgres.ConnectionString);
        int port = 21000 + Random.Shared.Next(0, 4000);
        using var text = new SiloProcess("text,prior", postgres.ConnectionString, port, port + 100, TinyCascadeFolder.Path);
        using var baseA = new SiloProcess("decoder64", postgres.ConnectionString, port + 1, 0, TinyCascadeFolder.Path);
        using var baseB = new SiloProcess("decoder64", postgres.ConnectionString, port + 2, 0, TinyCascadeFolder.Path);
        using var sr = new SiloProcess("sr256,sr1024", postgres.ConnectionString, port + 3, 0, TinyCascadeFolder.Path);
        await Task.WhenAll(text.Started, baseA.Started, baseB.Started, sr.Started);
        using var client = await Client(postgres.ConnectionString);
        var grains = client.Services.GetRequiredService<IGrainFactory>();
        await WaitForSilos(grains, 4);

        var spec = Specs.Quick(size: 256) with { Decoder64 = new SamplingOptions(300, 2.0, "none") };
        var ids = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToList();
        var runs = ids.Select((id, i) => Outcome(grains.Generate(spec with { Seed = (ulong)i }, id))).ToList();
        var busy = await BusyBase64Silo(grains);
        var killed = busy == baseA.SiloPort ? baseA : baseB;
        killed.Kill();
        var outcomes = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromMinutes(5));

        var results = outcomes.Select(o => o.Result ?? throw new Xunit.Sdk.XunitException($"a request failed: {o.Error}\n{text.Output}")).ToList();
        foreach (var result in results)
        {
            using var image = Png.Decode(result.Png);
            Assert.Equal(new long[] { 3, 256, 256 }, image.shape);
            Assert.DoesNotContain($":{killed.SiloPort}:", result.Stages.Single(s => s.Stage == CascadeStage.Decoder64).Silo);
        }
        Assert.Contains(results, r => r.Stages.Single(s => s.Stage == CascadeStage.Decoder64).Attempt > 1);
    }

    [Fact]
    public async Task Requests_run_while_the_database_is_down()
    {
        using var postgres = new PostgresServer();
        await ClusterSchema.Apply(postgres.ConnectionString);
        int port = 21000 + Random.Shared.Next(0, 4000);
        using var front = new SiloProcess("text,prior,decoder64", postgres.ConnectionString, port, port + 100, TinyCascadeFolder.Path);
        using var sr = new SiloProcess("sr256", postgres.ConnectionString, port + 1, 0, TinyCascadeFolder.Path);
        await Task.WhenAll(front.Started, sr.Started);
        using var client = await Client(postgres.ConnectionString);
        var grains = client.Services.GetRequiredService<IGrainFactory>();
        await WaitForSilos(grains, 2);
        // Every stage's worker active before the outage, as in a cluster that has served requests.
        await grains.Generate(Specs.Quick(size: 256), Guid.NewGuid());

        postgres.Stop();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 4)
            .Select(i => Outcome(grains.Generate(Specs.Quick(size: 256, seed: (ulong)i), Guid.NewGuid())))).WaitAsync(TimeSpan.FromMinutes(3));

        foreach (var (result, error) in outcomes)
            Assert.True(result is not null, $"a request failed with the database down: {error}\n{front.Output}");
    }

    static async Task<(GenerationResult? Result, string? Error)> Outcome(Task<GenerationResult> run)
    {
        try { return (await run, null); }
        catch (Exception e) { return (null, e.ToString()); }
    }

    static async Task<IHost> Client(string connectionString)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(c => c.UseCascadeClustering(new ClusterConnection { Membership = ClusterConnection.Postgres, ConnectionString = connectionString }));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    static async Task WaitForSilos(IGrainFactory grains, int count)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(60); await Task.Delay(200))
            if ((await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count == count) return;
        throw new TimeoutException($"{count} silos never became active");
    }

    /// The silo port of the decoder64 silo that is running a request now.
    static async Task<int> BusyBase64Silo(IGrainFactory grains)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(60); await Task.Delay(20))
        {
            foreach (var silo in (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Keys)
            {
                var description = await grains.GetGrain<ISiloStagesGrain>(SiloKeys.Of(silo)).Describe();
                if (description.Load.GetValueOrDefault(CascadeStage.Decoder64) > 0) return silo.Endpoint.Port;
            }
        }
        throw new TimeoutException("no decoder64 silo ever became busy");
    }
}
