using Microsoft.AspNetCore.Builder;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace DiffusionCluster.Gateway.Tests;

/// The real gateway on a loopback port, co-hosted with an embedded silo on a tiny random cascade, reached
/// with a real HTTP client.
public sealed class GatewayServer : IAsyncLifetime, IAsyncDisposable
{
    readonly Dictionary<string, string?> _settings;
    public WebApplication App { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string BaseUrl { get; }

    public GatewayServer() : this([]) { }

    /// A server with extra settings, for tests that own their server (fixtures use the default one).
    public static GatewayServer With(Dictionary<string, string?> settings) => new(settings);

    GatewayServer(Dictionary<string, string?> settings)
    {
        BaseUrl = $"http://127.0.0.1:{FreePorts.Next()}";
        _settings = new Dictionary<string, string?>
        {
            ["Urls"] = BaseUrl,
            ["Silo:ModelFolder"] = TinyCascadeFolder.Path,
            ["Silo:Threads"] = "1",
            ["Cluster:SiloPort"] = FreePorts.Next().ToString(),
            ["Cluster:GatewayPort"] = FreePorts.Next().ToString(),
        };
        foreach (var (k, v) in settings) _settings[k] = v;
    }


    public async Task InitializeAsync()
    {
        App = GatewayApp.Build([], _settings);
        await App.StartAsync();
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromMinutes(5) };
    }

    public async Task DisposeAsync() => await ((IAsyncDisposable)this).DisposeAsync();

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
