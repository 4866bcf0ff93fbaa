using DiffusionCluster.ServiceDefaults;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Grains.Hosting;
using Microsoft.Extensions.Hosting;

namespace DiffusionCluster.Cli.Commands;

/// `cluster silo`: one silo hosting the given stages, until stopped. `cluster schema`: applies the
/// PostgreSQL clustering schema.
public static class ClusterCommand
{
    public const string Help = """
          cluster silo --stages all|text,prior,decoder64,sr256,sr1024 [--model DIR] [--device cpu|cuda[:N]] [--threads N]
                [--membership localhost|postgres] [--connection "Host=...;Database=..."] [--silo-port P] [--gateway-port P (0 = none)]
                [--primary-port P (localhost)] [--advertise IP] [--max-batch N] [--max-queue-delay-ms X] [--max-queue N]
                [--metrics-port P (Prometheus /metrics)] [--health-port P (/health/live, /health/ready)] [--simulated-profile stage-profile.json] [--count N (1-64)]
              starts one silo hosting the given stages and runs until stopped (Ctrl+C / SIGTERM); with
              --simulated-profile its stages compute nothing and take the profile's measured time per batch;
              --count N starts N silos in this process, each on a free port and without a gateway (many
              simulated silos on one machine: bench scale);
              Silo__*, Cluster__* and Telemetry__* environment variables set the same options; OTLP export
              follows the standard OTEL_EXPORTER_OTLP_* variables
          cluster schema --connection "Host=...;Database=..." [--file deploy/postgresql/schema.sql]
              creates the PostgreSQL tables and OrleansQuery rows that ADO.NET clustering reads (safe to re-run)
        """;

    public static async Task<int> Run(Arguments args)
    {
        var verb = args.Positionals.FirstOrDefault() ?? throw new UsageException("cluster needs silo or schema");
        return verb switch
        {
            "silo" => await Silo(args),
            "schema" => await Schema(args),
            _ => throw new UsageException($"unknown cluster command \"{verb}\"; use silo or schema"),
        };
    }

    /// The most silos one process may hold (--count).
    const int MaxSilosPerProcess = 64;

    static async Task<int> Silo(Arguments args)
    {
        int count = args.Int("count", 1, 1, MaxSilosPerProcess);
        var settings = new Dictionary<string, string?>();
        void Map(string option, string key)
        {
            if (args.Text(option) is { } value) settings[key] = value;
        }
        Map("stages", "Silo:Stages");
        Map("model", "Silo:ModelFolder");
        Map("device", "Silo:Device");
        Map("threads", "Silo:Threads");
        Map("max-batch", "Silo:DefaultBatching:MaxBatchSize");
        Map("max-queue-delay-ms", "Silo:DefaultBatching:MaxQueueDelayMilliseconds");
        Map("max-queue", "Silo:DefaultBatching:MaxQueueLength");
        Map("membership", "Cluster:Membership");
        Map("connection", "Cluster:ConnectionString");
        Map("silo-port", "Cluster:SiloPort");
        Map("gateway-port", "Cluster:GatewayPort");
        Map("primary-port", "Cluster:PrimarySiloPort");
        Map("advertise", "Cluster:AdvertisedAddress");
        Map("metrics-port", "Telemetry:PrometheusPort");
        Map("health-port", "Silo:HealthPort");
        Map("simulated-profile", "Silo:SimulatedProfile");
        args.RejectUnknown();
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

    static async Task<int> Schema(Arguments args)
    {
        var connection = args.Text("connection") ?? throw new UsageException("cluster schema needs --connection \"Host=...;Database=...\"");
        var file = args.Text("file");
        args.RejectUnknown();
        await ClusterSchema.Apply(connection, file);
        Console.WriteLine("clustering schema applied");
        return 0;
    }
}
