using DiffusionCluster.Grains.Hosting;
using Microsoft.AspNetCore.Builder;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace DiffusionCluster.Gateway.Tests;

/// The real gateway on a loopback port, co-hosted with an embedded silo on a tiny random cascade, reached
/// with a real HTTP client.
public sealed class GatewayServer : IAsyncLifetime, IAsyncDisposable
{
    readonly Dictionary<string, string?> _settings;
    readonly bool _embeddedSilo;
    public WebApplication App { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";

    public GatewayServer() : this([]) { }

    /// A server with extra settings, for tests that own their server (fixtures use the default one).
    public static GatewayServer With(Dictionary<string, string?> settings) => new(settings);

    /// Another gateway replica with no silo of its own: a client of `cluster`'s silo, as the chart's gateway pods are.
    public static GatewayServer ReplicaOf(GatewayServer cluster, Dictionary<string, string?> settings)
    {
        var replica = new GatewayServer(settings, embeddedSilo: false);
        replica._settings["Gateway:Cluster"] = $"localhost:{cluster._settings["Cluster:GatewayPort"]}";
        return replica;
    }

    GatewayServer(Dictionary<string, string?> settings, bool embeddedSilo = true)
    {
        _embeddedSilo = embeddedSilo;
        _settings = new Dictionary<string, string?>
        {
            ["Silo:ModelFolder"] = TinyCascadeFolder.Path,
            ["Silo:Threads"] = "1",
        };
        foreach (var (k, v) in settings) _settings[k] = v;
        PickPorts();
    }

    void PickPorts()
    {
        BaseUrl = $"http://127.0.0.1:{FreePorts.Next()}";
        _settings["Urls"] = BaseUrl;
        _settings["Cluster:SiloPort"] = FreePorts.Next().ToString();
        _settings["Cluster:GatewayPort"] = FreePorts.Next().ToString();
    }

    public async Task InitializeAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            App = GatewayApp.Build([], _settings, embeddedSilo: _embeddedSilo ? builder => builder.AddCascadeSilo() : null);
            try
            {
                await App.StartAsync();
                break;
            }
            catch (Exception error) when (attempt < 3 && FreePorts.IsAddressInUse(error))
            {
                await App.DisposeAsync();
                PickPorts();
            }
        }
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromMinutes(5) };
    }

    public async Task DisposeAsync() => await ((IAsyncDisposable)this).DisposeAsync();

    // Null-safe: when InitializeAsync failed, disposal must not hide its exception behind a NullReferenceException.
    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        Http?.Dispose();
        if (App is null) return;
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
