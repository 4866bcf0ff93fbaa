using System.Net;
using System.Text;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Stages;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace DiffusionCluster.Grains.Hosting;

/// The silo's probes for its orchestrator, on Silo:HealthPort (0: none), answered as plain text:
/// - GET /health/live: 200 while this process makes local progress: the silo's own grain answers a call through its
///   scheduler within LiveTimeout. Nothing remote is asked (not the database, not another silo), so an outage of a
///   shared dependency never restarts every silo at once (the Orleans deployment guide's advice).
/// - GET /health/ready: 200 once the silo is Active in its own membership view and its stages are loaded; 503 with
///   the reason before (starting, joining) and after (stopping). The chart's startup and readiness probes.
public sealed class SiloHealthEndpoint(
    IOptions<SiloStageOptions> options, IGrainFactory grains, ILocalSiloDetails silo, IClusterMembershipService membership,
    HostedStages stages, ILogger<SiloHealthEndpoint> log) : IHostedService
{
    static readonly TimeSpan LiveTimeout = TimeSpan.FromSeconds(5);
    HttpListener? _listener;
    Task? _accepting;

    /// Listens before the host's start completes, so the port answers as soon as the silo says it started.
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.HealthPort == 0) return Task.CompletedTask;
        _listener = new HttpListener();
        _listener.Prefixes.Add($"http://+:{options.Value.HealthPort}/");
        _listener.Start();
        _accepting = Task.Run(() => Accept(_listener), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_listener is null) return;
        _listener.Stop();
        await _accepting!.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _listener.Close();
    }

    async Task Accept(HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception) when (!listener.IsListening) { return; }
            catch (HttpListenerException e)
            {
                log.LogWarning(e, "health endpoint: accepting a probe failed");
                continue;
            }
            _ = Answer(context);
        }
    }

    async Task Answer(HttpListenerContext context)
    {
        var (status, text) = context.Request.Url?.AbsolutePath switch
        {
            "/health/live" => await Live(),
            "/health/ready" => Ready(),
            var path => (404, $"no such probe: {path}; the silo answers /health/live and /health/ready"),
        };
        try
        {
            var body = Encoding.UTF8.GetBytes(text + "\n");
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The prober went away.
        }
    }

    async Task<(int, string)> Live()
    {
        try
        {
            // This silo's own stages grain, placed here by its key: a call through the local scheduler only.
            await grains.GetGrain<ISiloStagesGrain>(silo.SiloAddress.ToParsableString()).Describe().WaitAsync(LiveTimeout);
            return (200, "live");
        }
        catch (TimeoutException)
        {
            return (503, $"not live: this silo's scheduler did not answer a local call within {LiveTimeout.TotalSeconds:0} s");
        }
        catch (Exception e)
        {
            return (503, $"not live: a local call failed ({e.GetType().Name})");
        }
    }

    (int, string) Ready()
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        if (status != SiloStatus.Active) return (503, $"not ready: this silo is {status.ToString().ToLowerInvariant()} in the cluster's membership");
        if (!stages.Loaded) return (503, "not ready: the stages' models are loading");
        return (200, "ready");
    }
}
