using DiffusionCluster.ServiceDefaults;
using System.CommandLine;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Grains.Hosting;
using Microsoft.Extensions.Hosting;

namespace DiffusionCluster.Cli.Commands;

/// `cluster silo`: one silo hosting the given stages, until stopped. `cluster schema`: applies the
/// PostgreSQL clustering schema.
public static class ClusterCommand
{
    /// The most silos one process may hold (--count).
    const int MaxSilosPerProcess = 64;

    public static Command Create() => new("cluster", "Runs a silo of the cluster, or prepares its PostgreSQL database.") { Silo(), Schema() };

    /// Each silo option and the configuration key it sets (the same keys as appsettings and Silo__*, Cluster__*, Telemetry__* variables).
    static readonly (string Option, string Key, string HelpName, string Description)[] SiloSettings =
    [
        ("--stages", "Silo:Stages", "all|text,prior,...", "the stages this silo hosts [default: all]"),
        ("--model", "Silo:ModelFolder", "DIR", "the model folder"),
        ("--device", "Silo:Device", "DEVICE", "cpu or cuda[:N]"),
        ("--threads", "Silo:Threads", "N", "compute threads, 0 for the machine's cores"),
        ("--max-batch", "Silo:DefaultBatching:MaxBatchSize", "N", "the largest batch a stage runs"),
        ("--max-queue-delay-ms", "Silo:DefaultBatching:MaxQueueDelayMilliseconds", "X", "how long a batch may wait for company"),
        ("--max-queue", "Silo:DefaultBatching:MaxQueueLength", "N", "requests a stage queues before it refuses more"),
        ("--membership", "Cluster:Membership", "localhost|postgres", "how silos find each other"),
        ("--connection", "Cluster:ConnectionString", "\"Host=...;Database=...\"", "the PostgreSQL membership database (implies --membership postgres)"),
        ("--silo-port", "Cluster:SiloPort", "P", "silo-to-silo port"),
        ("--gateway-port", "Cluster:GatewayPort", "P", "client gateway port (0: none)"),
        ("--primary-port", "Cluster:PrimarySiloPort", "P", "the primary silo's port (localhost membership)"),
        ("--advertise", "Cluster:AdvertisedAddress", "IP", "the address other silos reach this one at"),
        ("--metrics-port", "Telemetry:PrometheusPort", "P", "Prometheus /metrics port"),
        ("--health-port", "Silo:HealthPort", "P", "/health/live and /health/ready port"),
        ("--simulated-profile", "Silo:SimulatedProfile", "stage-profile.json", "stages compute nothing and take the profile's measured time per batch"),
    ];

    static Command Silo()
    {
        var options = SiloSettings.Select(s => (s.Key, Option: CliOption.OptionalText(s.Option, s.Description, s.HelpName))).ToList();
        var count = CliOption.Int("--count", "silos in this process, each on a free port and without a gateway (many simulated silos on one machine: bench scale)",
            1, 1, MaxSilosPerProcess);
        var command = new Command("silo", "Starts a silo hosting the given stages and runs until stopped (Ctrl+C / SIGTERM). Silo__*, Cluster__* and "
            + "Telemetry__* environment variables set the same options; OTLP export follows the standard OTEL_EXPORTER_OTLP_* variables.") { count };
        foreach (var (_, option) in options) command.Options.Add(option);
        command.SetAction(async (line, _) =>
        {
            var settings = new Dictionary<string, string?>();
            foreach (var (key, option) in options)
                if (line.GetValue(option) is { } value) settings[key] = value;
            return await Silo(line.GetValue(count), settings);
        });
        return command;
    }

    static async Task<int> Silo(int count, Dictionary<string, string?> settings)
    {
        if (settings.ContainsKey("Cluster:ConnectionString") && !settings.ContainsKey("Cluster:Membership"))
            settings["Cluster:Membership"] = ClusterConnection.Postgres;

        var stages = settings.GetValueOrDefault("Silo:Stages") ?? "all";
        if (count == 1)
        {
            using var host = SiloHostFactory.Build([], settings);
            await host.StartAsync();
            Console.WriteLine($"silo started: stages {stages}; stop with Ctrl+C");
            await host.WaitForShutdownAsync();
            return 0;
        }
        return await Silos(count, settings, stages);
    }

    /// Several silos in one process, each its own host on its own port: they share the process's threads and
    /// memory, as simulated silos can (their stages compute nothing), so dozens fit on a small machine.
    static async Task<int> Silos(int count, Dictionary<string, string?> settings, string stages)
    {
        if (settings.ContainsKey("Cluster:SiloPort") || settings.ContainsKey("Cluster:GatewayPort") || settings.ContainsKey("Telemetry:PrometheusPort")
            || settings.ContainsKey("Silo:HealthPort"))
            throw new UsageException("--count above 1 picks each silo's port itself: leave out --silo-port, --gateway-port, --metrics-port and --health-port");
        var hosts = Enumerable.Range(0, count).Select(_ => SiloHostFactory.Build([], new Dictionary<string, string?>(settings)
        {
            ["Cluster:SiloPort"] = CascadeConnection.FreePort().ToString(),
            ["Cluster:GatewayPort"] = "0",
        })).ToList();
        try
        {
            foreach (var host in hosts) await host.StartAsync();
            Console.WriteLine($"silo started: {count} silos, stages {stages}; stop with Ctrl+C");
            // Each host's console lifetime stops it on Ctrl+C / SIGTERM.
            await Task.WhenAll(hosts.Select(h => h.WaitForShutdownAsync()));
        }
        finally
        {
            foreach (var host in hosts) host.Dispose();
        }
        return 0;
    }

    static Command Schema()
    {
        var connection = CliOption.RequiredText("--connection", "the PostgreSQL database", "\"Host=...;Database=...\"");
        var file = CliOption.OptionalText("--file", "the schema to apply [default: deploy/postgresql/schema.sql]", "FILE.sql");
        var command = new Command("schema", "Creates the PostgreSQL tables and OrleansQuery rows that ADO.NET clustering reads (safe to re-run).") { connection, file };
        command.SetAction(async (line, _) =>
        {
            await ClusterSchema.Apply(line.GetValue(connection)!, line.GetValue(file));
            Console.WriteLine("clustering schema applied");
            return 0;
        });
        return command;
    }
}
