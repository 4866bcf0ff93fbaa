using DiffusionCluster.ServiceDefaults;
using DiffusionCluster.Cli.Reliability;
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
        using var postgres = new LocalPostgres(Repository.Root());
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

        // Enough decoder64 steps that its run lasts seconds: the kill must land while the busy silo is still working.
        var spec = Specs.Quick(size: 256) with { Decoder64 = new SamplingOptions(SamplingOptions.MaxSteps, 2.0, "none") };
        var ids = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToList();
        var runs = ids.Select((id, i) => Outcome(grains.Generate(spec with { Seed = (ulong)i }, id))).ToList();
        var busy = await BusyBase64Silo(grains, ids);
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
        // The request grains live on the front silo and keep running: none starts over because a stage silo died
        // (the directory entries the dead silo held are rebuilt, not dropped with their activations).
        foreach (var id in ids)
            Assert.Equal(1, (await grains.GetGrain<IGenerationGrain>(id).GetProgress()).Starts);
        Assert.True(results.Any(r => r.Stages.Single(s => s.Stage == CascadeStage.Decoder64).Attempt > 1), $"killed {killed.SiloPort}: " + string.Join("\n", results.Select(r => string.Join("; ", r.Stages.Select(s => $"{s.Stage} {s.Silo} a{s.Attempt} b{s.BatchSize} q{s.QueueMilliseconds:0} c{s.ComputeMilliseconds:0}"))))
            + $"\nfront silo:\n{text.Output}\nkilled silo:\n{killed.Output}");
    }

    [Fact]
    public async Task Requests_run_while_the_database_is_down()
    {
        using var postgres = new LocalPostgres(Repository.Root());
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
        // Routing from a client uses a silo's membership view too, and the silo holding the requests tells readiness
        // that their records are not being stored.
        var silos = await new StageRouter(grains).DescribeAll();
        Assert.Equal(2, silos.Count(s => s is not null));
        Assert.Contains(silos, s => s?.Degraded?.StartsWith("request storage failing", StringComparison.Ordinal) == true);
    }

    /// The silo holding the request grains dies: requests a client waits for and jobs nobody is watching both resume
    /// on another silo from their stored records (the first through the client's next call, the second through
    /// their reminders) and complete.
    [Fact]
    public async Task Killing_the_silo_holding_request_grains_loses_no_request()
    {
        using var postgres = new LocalPostgres(Repository.Root());
        await ClusterSchema.Apply(postgres.ConnectionString);
        int port = 21000 + Random.Shared.Next(0, 4000);
        var quickSweep = new Dictionary<string, string> { ["Silo__RequestSweepSeconds"] = "3" };
        // The only gateway at first, so every request grain is placed here.
        using var holder = new SiloProcess("text,prior", postgres.ConnectionString, port, port + 100, TinyCascadeFolder.Path, quickSweep);
        await holder.Started;
        using var client = await Client(postgres.ConnectionString);
        var grains = client.Services.GetRequiredService<IGrainFactory>();
        await WaitForSilos(grains, 1);

        // No decoder64 host yet: the requests run text and prior, then wait for one (Silo:StageRecoverySeconds).
        var waited = Enumerable.Range(0, 2).Select(i => Outcome(grains.Generate(Specs.Quick(seed: (ulong)i), Guid.NewGuid()))).ToList();
        var unwatched = Enumerable.Range(0, 2).Select(_ => Guid.NewGuid()).ToList();
        foreach (var (id, i) in unwatched.Select((id, i) => (id, i)))
            await grains.GetGrain<IGenerationGrain>(id).Start(Specs.Quick(seed: 10 + (ulong)i), owner: "");
        using var survivor = new SiloProcess("text,prior", postgres.ConnectionString, port + 1, port + 101, TinyCascadeFolder.Path, quickSweep);
        await survivor.Started;
        await WaitForSilos(grains, 2);

        holder.Kill();
        using var decoder = new SiloProcess("decoder64", postgres.ConnectionString, port + 2, 0, TinyCascadeFolder.Path, quickSweep);
        await decoder.Started;
        var outcomes = await Task.WhenAll(waited).WaitAsync(TimeSpan.FromMinutes(4));
        foreach (var (result, error) in outcomes)
            Assert.True(result is not null, $"a waited-for request failed: {error}\n{survivor.Output}");
        // The unwatched jobs resumed on their own: their first read here finds them already done, on a second start.
        await Task.Delay(TimeSpan.FromSeconds(20));
        foreach (var id in unwatched)
        {
            var progress = await grains.GetGrain<IGenerationGrain>(id).GetProgress();
            Assert.True(progress.State == GenerationState.Completed, $"job {id} is {progress.State} ({progress.Error})\n{survivor.Output}");
            Assert.True(progress.Starts >= 2, $"job {id} was started {progress.Starts} time(s)");
            Assert.NotNull(await grains.GetGrain<IGenerationGrain>(id).Wait(TimeSpan.Zero));
        }
    }

    static async Task<(GenerationResult? Result, string? Error)> Outcome(Task<GenerationResult> run)
    {
        try { return (await run, null); }
        catch (Exception e) { return (null, e.ToString()); }
    }

    /// An Orleans client of the PostgreSQL cluster, started.
    internal static async Task<IHost> Client(string connectionString)
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

    /// The silo port of a decoder64 silo that is running a request now, found while some request is in the first half
    /// of its decoder64 steps: the silo then has seconds of work left, so a kill right after lands mid-run even when
    /// a busy silo answers late.
    static async Task<int> BusyBase64Silo(IGrainFactory grains, IReadOnlyList<Guid> requests)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(60); await Task.Delay(20))
        {
            var progress = await Task.WhenAll(requests.Select(id => grains.GetGrain<IGenerationGrain>(id).GetProgress()));
            if (!progress.Any(p => p.Stage == CascadeStage.Decoder64 && p.Step > 0 && p.Step < p.TotalSteps / 2)) continue;
            foreach (var silo in (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Keys)
            {
                var description = await grains.GetGrain<ISiloStagesGrain>(SiloKeys.Of(silo)).Describe();
                if (description.Load.GetValueOrDefault(CascadeStage.Decoder64) > 0) return silo.Endpoint.Port;
            }
        }
        throw new TimeoutException("no decoder64 silo ever became busy");
    }
}
