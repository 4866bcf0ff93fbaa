using DiffusionCluster.Cli.Reliability;
using DiffusionCluster.Grains.Hosting;

namespace DiffusionCluster.Grains.Tests.MultiProcess;

/// A silo process's probes (Silo:HealthPort), as the chart's startup, readiness and liveness probes call them.
public sealed class SiloProbesTests
{
    [Fact]
    public async Task A_joined_silo_answers_live_and_ready_and_names_the_probes_it_has()
    {
        using var postgres = new LocalPostgres(Repository.Root());
        await ClusterSchema.Apply(postgres.ConnectionString);
        int port = 21000 + Random.Shared.Next(0, 4000);
        using var silo = new SiloProcess("text,prior", postgres.ConnectionString, port, port + 100, TinyCascadeFolder.Path,
            new Dictionary<string, string> { ["Silo__HealthPort"] = $"{port + 200}" });
        await silo.Started;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port + 200}"), Timeout = TimeSpan.FromSeconds(10) };

        var ready = await http.GetAsync("/health/ready");
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !ready.IsSuccessStatusCode && clock.Elapsed < TimeSpan.FromSeconds(60); await Task.Delay(500))
            ready = await http.GetAsync("/health/ready");
        Assert.Equal("ready\n", await ready.Content.ReadAsStringAsync());

        var live = await http.GetAsync("/health/live");
        Assert.Equal((200, "live\n"), ((int)live.StatusCode, await live.Content.ReadAsStringAsync()));

        var unknown = await http.GetAsync("/metrics");
        Assert.Equal(404, (int)unknown.StatusCode);
        Assert.Contains("/health/live and /health/ready", await unknown.Content.ReadAsStringAsync());
    }
}
