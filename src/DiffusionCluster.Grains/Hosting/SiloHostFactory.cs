using DiffusionCluster.Grains.Stages;
using DiffusionCluster.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DiffusionCluster.Grains.Hosting;

/// Builds a silo from configuration ("Silo", "Cluster" and "Telemetry" sections: appsettings, environment
/// variables such as Silo__Stages, then the given overrides). Used by the Silo program, `cluster silo`, the
/// embedded `generate` and the gateway's embedded mode.
public static class SiloHostFactory
{
    public static IHost Build(string[] args, IDictionary<string, string?>? overrides = null, LogLevel logLevel = LogLevel.Warning, LogLevel orleansLogLevel = LogLevel.Warning)
    {
        // appsettings.json is read from beside the program, wherever it is started from.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        // Orleans' ADO.NET providers run their database calls through Polly pipelines, which log every call at information level.
        builder.Logging.SetMinimumLevel(logLevel).AddFilter("Orleans", orleansLogLevel).AddFilter("Polly", LogLevel.Warning);
        builder.AddCascadeSilo();
        return builder.Build();
    }

    /// Adds telemetry and a silo hosting the configured stages to any host (a plain host or a web app).
    public static IHostApplicationBuilder AddCascadeSilo(this IHostApplicationBuilder builder)
    {
        var cluster = builder.Configuration.GetSection(ClusterConnection.Section).Get<ClusterConnection>() ?? new ClusterConnection();
        // Fail on a bad stage list or model folder before Orleans starts listening.
        (builder.Configuration.GetSection(SiloStageOptions.Section).Get<SiloStageOptions>() ?? new SiloStageOptions()).Validate();
        builder.AddCascadeTelemetry(builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions());
        builder.UseOrleans(silo => silo.UseCascadeClustering(cluster).UseRequestStorage(cluster).AddCascadeStages().AddActivityPropagation());
        return builder;
    }
}
