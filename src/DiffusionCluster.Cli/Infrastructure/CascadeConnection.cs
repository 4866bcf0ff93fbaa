using DiffusionCluster.ServiceDefaults;
using System.Net;
using System.Net.Sockets;
using DiffusionCluster.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DiffusionCluster.Cli.Infrastructure;

/// A started host that can reach the cascade's grains: an embedded silo hosting every stage (localhost
/// clustering on free ports, nothing else needed), or an Orleans client of a running cluster.
public sealed class CascadeConnection : IAsyncDisposable
{
    readonly IHost _host;

    static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    CascadeConnection(IHost host) => _host = host;

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    public static async Task<CascadeConnection> Embedded(string modelFolder, string device, int threads, IDictionary<string, string?>? extra = null,
        string precision = "fp32")
    {
        var settings = new Dictionary<string, string?>
        {
            ["Silo:Stages"] = "all",
            ["Silo:ModelFolder"] = modelFolder,
            ["Silo:Device"] = device,
            ["Silo:Precision"] = precision,
            ["Silo:Threads"] = threads.ToString(),
            // Each stage loads on first use, so a 64 px image never reads the SR weights.
            ["Silo:WarmUp"] = "false",
            ["Cluster:Membership"] = ClusterConnection.Localhost,
            ["Cluster:SiloPort"] = FreePort().ToString(),
            ["Cluster:GatewayPort"] = FreePort().ToString(),
            // A silo that fails to start is reported in one line by the command; the host would log it with its stack.
            ["Logging:LogLevel:Microsoft.Extensions.Hosting"] = "None",
            // Nor does a one-shot command say that its host is shutting down.
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) settings[key] = value;
        // Orleans' start-up advice (ServerGC, ...) is noise for a one-shot command.
        var host = SiloHostFactory.Build([], settings, orleansLogLevel: LogLevel.Error);
        await host.StartAsync();
        return new CascadeConnection(host);
    }

    /// connectTimeout: how long to wait for a gateway silo to answer (15 s when left out: a user's command should
    /// say soon that nothing is there; a benchmark whose own silos are still settling waits longer).
    public static async Task<CascadeConnection> Client(string cluster, TimeSpan? connectTimeout = null)
    {
        var connection = ClusterConnection.ForClient(cluster);
        var builder = Host.CreateApplicationBuilder();
        // A failed connection is reported in one line by the command; the host would log it with its stack.
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error).AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.UseOrleansClient(client => client.UseCascadeClustering(connection));
        var host = builder.Build();
        var wait = connectTimeout ?? ConnectTimeout;
        using var timeout = new CancellationTokenSource(wait);
        var start = host.StartAsync(timeout.Token);
        try
        {
            await start.WaitAsync(timeout.Token);
        }
        catch (Exception e) when (e is not UsageException)
        {
            // Disposed once its start has given up, not under it.
            _ = start.ContinueWith(_ => host.Dispose(), TaskScheduler.Default);
            var where = connection.IsPostgres ? "whose membership is in the PostgreSQL database given" : $"at {cluster}";
            var cause = timeout.IsCancellationRequested ? $"no answer within {wait.TotalSeconds:0} s" : CliProgram.Cause(e).Message;
            throw new InvalidOperationException($"could not connect to the cluster {where} (--cluster): {cause}; is a silo with a gateway port running?", e);
        }
        return new CascadeConnection(host);
    }

    /// A loopback port nothing listens on now.
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
