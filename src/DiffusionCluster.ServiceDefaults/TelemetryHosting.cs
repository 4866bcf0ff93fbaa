using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DiffusionCluster.ServiceDefaults;

/// Where telemetry goes: OTLP when the standard OTEL_EXPORTER_OTLP_ENDPOINT variable is set (protocol and
/// headers from the other OTEL_* variables), and a Prometheus scrape endpoint when a port is given.
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// Port of the Prometheus scrape endpoint (http://host:port/metrics); 0 = none.
    public int PrometheusPort { get; set; }
    /// The host name the scrape endpoint binds to: "*" in a container, so Prometheus can reach it.
    public string PrometheusHost { get; set; } = "localhost";
    public string ServiceName { get; set; } = "diffusion-cluster";
}

public static class TelemetryHosting
{
    /// Orleans' own activity sources and meter, beside ours.
    public static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];
    public const string OrleansMeter = "Microsoft.Orleans";

    public static IHostApplicationBuilder AddCascadeTelemetry(this IHostApplicationBuilder builder, TelemetryOptions options)
    {
        if (options.PrometheusPort < 0 || options.PrometheusPort > 65535)
            throw new ArgumentException($"Telemetry:PrometheusPort = {options.PrometheusPort}; allowed 0 (none) to 65535");
        bool otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(options.ServiceName))
            .WithTracing(tracing =>
            {
                tracing.AddSource(CascadeTelemetry.Name).AddSource(OrleansSources);
                if (otlp) tracing.AddOtlpExporter();
            })
            .WithMetrics(metrics =>
            {
                // .NET's runtime meter (GC, thread pool, exceptions) and, in the gateway, ASP.NET Core's request and
                // connection meters, beside the cascade's and Orleans'.
                metrics.AddMeter(CascadeTelemetry.Name, OrleansMeter, "System.Runtime", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel");
                if (otlp) metrics.AddOtlpExporter();
                if (options.PrometheusPort > 0)
                    metrics.AddPrometheusHttpListener(o => (o.Host, o.Port) = (options.PrometheusHost, options.PrometheusPort));
            });
        return builder;
    }
}
