using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Hosting;
using DiffusionCluster.Grains.Tests.MultiProcess;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DiffusionCluster.Grains.Tests;

/// A silo built the way production builds it (SiloHostFactory) exports what it should: OTLP to the endpoint
/// in OTEL_EXPORTER_OTLP_ENDPOINT, and a Prometheus endpoint with every metric the Grafana dashboard queries.
public sealed class TelemetryExportTests
{

    /// A real HTTP listener standing in for an OTLP collector: records each request's path and size.
    sealed class OtlpReceiver : IDisposable
    {
        readonly HttpListener _listener = new();
        public readonly List<(string Path, string? ContentType, long Bytes)> Requests = [];

        public OtlpReceiver(int port)
        {
            _listener.Prefixes.Add($"http://localhost:{port}/");
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try { context = await _listener.GetContextAsync(); } catch (Exception) { return; }
                    using var body = new MemoryStream();
                    await context.Request.InputStream.CopyToAsync(body);
                    lock (Requests) Requests.Add((context.Request.Url!.AbsolutePath, context.Request.ContentType, body.Length));
                    context.Response.StatusCode = 200;
                    context.Response.Close();
                }
            });
        }

        public void Dispose() => _listener.Close();
    }

    [Fact]
    public async Task A_silo_exports_otlp_and_serves_every_metric_the_dashboard_queries()
    {
        int otlpPort = FreePorts.Next(), prometheusPort = FreePorts.Next();
        using var receiver = new OtlpReceiver(otlpPort);
        var host = SiloHostFactory.Build([], new Dictionary<string, string?>
        {
            ["Silo:ModelFolder"] = TinyCascadeFolder.Path,
            ["Silo:Threads"] = "1",
            ["Cluster:SiloPort"] = FreePorts.Next().ToString(),
            ["Cluster:GatewayPort"] = FreePorts.Next().ToString(),
            ["Telemetry:PrometheusPort"] = prometheusPort.ToString(),
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://localhost:{otlpPort}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });
        await host.StartAsync();
        string scrape;
        try
        {
            await host.Services.GetRequiredService<IGrainFactory>().Generate(Specs.Quick(size: 256));
            using var http = new HttpClient();
            scrape = await http.GetStringAsync($"http://localhost:{prometheusPort}/metrics");
        }
        finally
        {
            await host.StopAsync(); // flushes the OTLP exporters
            host.Dispose();
        }

        var exported = scrape.Split('\n').Where(l => l.StartsWith("dc_")).Select(l => l.Split('{', ' ')[0]).ToHashSet();
        var queried = DashboardMetrics();
        Assert.True(queried.Count >= 7, $"the dashboard queries {queried.Count} metrics");
        Assert.All(queried, metric => Assert.Contains(metric, exported));
        Assert.Contains("dc_stage=\"sr256\"", scrape);
        Assert.Matches($@"(?m)^dc_kernels_onednn(\{{[^}}]*\}})? {(DiffusionCluster.Diffusion.TorchRuntime.OneDnn ? 1 : 0)}\b", scrape);
        lock (receiver.Requests)
        {
            Assert.Contains(receiver.Requests, r => r.Path == "/v1/traces" && r.ContentType == "application/x-protobuf" && r.Bytes > 0);
            Assert.Contains(receiver.Requests, r => r.Path == "/v1/metrics" && r.Bytes > 0);
        }
    }

    /// Metric names in the dashboard's PromQL: label matchers and `by (...)` lists removed, what is left
    /// that starts with dc_ is a metric.
    static HashSet<string> DashboardMetrics()
    {
        var names = new HashSet<string>();
        foreach (var expr in DashboardExpressions())
        {
            var bare = Regex.Replace(expr, @"\{[^}]*\}|by \([^)]*\)", "");
            foreach (Match m in Regex.Matches(bare, @"\bdc_\w+")) names.Add(m.Value);
        }
        return names;
    }

    static List<string> DashboardExpressions()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root(), "deploy", "grafana", "diffusion-cluster.json")));
        return dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.TryGetProperty("targets", out var targets) ? targets.EnumerateArray().Select(t => t.GetProperty("expr").GetString()!) : [])
            .ToList();
    }

    [Fact]
    public void Every_dashboard_query_follows_the_namespace_pool_and_pod_filters()
    {
        var expressions = DashboardExpressions();

        Assert.NotEmpty(expressions);
        foreach (var expr in expressions)
        {
            var selectors = Regex.Matches(Regex.Replace(expr, @"by \([^)]*\)", ""), @"\bdc_\w+(\{[^}]*\})?").ToList();
            Assert.NotEmpty(selectors);
            Assert.All(selectors, s => Assert.Contains("{namespace=~\"$namespace\", pool=~\"$pool\", pod=~\"$pod\"", s.Value));
        }
        // One panel per stage: queue wait against compute.
        Assert.Contains(expressions, e => e.Contains("dc_stage_queue_duration_seconds_bucket") && e.Contains("dc_stage=\"$stage\""));
        Assert.Contains(expressions, e => e.Contains("dc_stage_compute_duration_seconds_bucket") && e.Contains("dc_stage=\"$stage\""));
    }
}
