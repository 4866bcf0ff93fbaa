using DiffusionCluster.Gateway.Apis;
using DiffusionCluster.Gateway.Jobs;
using DiffusionCluster.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace DiffusionCluster.Gateway;

/// Builds the gateway: configuration, Orleans, APIs, web page. The gateway is a client of a cluster (Gateway:Cluster);
/// a composition root that hosts a silo in the same process (src/DiffusionCluster.Server) passes embeddedSilo, which
/// adds it when Gateway:Cluster is empty.
public static class GatewayApp
{
    public const string DefaultUrl = "http://localhost:8080";

    public static WebApplication Build(string[] args, IDictionary<string, string?>? overrides = null, Action<WebApplicationBuilder>? embeddedSilo = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        // Orleans' ADO.NET clustering runs its table reads through Polly pipelines, which log every call at information level.
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        var options = builder.Configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();
        options.Validate();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(Options.Create(options));
        // http://localhost:8080 unless the standard ASP.NET Core settings say otherwise (ASPNETCORE_URLS, --urls, Urls,
        // ASPNETCORE_HTTP_PORTS): a default in appsettings.json would override the environment variables.
        if (new[] { "urls", "http_ports", "https_ports" }.All(key => string.IsNullOrWhiteSpace(builder.Configuration[key])))
            builder.WebHost.UseUrls(DefaultUrl);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = Math.Max(options.MaxUploadBytes, options.MaxJsonBytes) + 1024 * 1024;
            RequestSizeLimits.RaiseKestrelLimits(k);
        });
        builder.Services.Configure<Microsoft.AspNetCore.Http.Features.FormOptions>(f => f.MultipartBodyLengthLimit = options.MaxUploadBytes);

        if (string.IsNullOrWhiteSpace(options.Cluster))
        {
            if (embeddedSilo is null)
                throw new ArgumentException("Gateway:Cluster is empty; set it (Gateway__Cluster) to the cluster's PostgreSQL connection string or localhost[:PORT], "
                    + "or run src/DiffusionCluster.Server for the gateway and a silo in one process");
            embeddedSilo(builder);
        }
        else
        {
            builder.AddCascadeTelemetry(builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions());
            // The cluster's identity (Cluster:ClusterId, Cluster:ServiceId) comes from the same section silos read.
            var bound = builder.Configuration.GetSection(ClusterConnection.Section).Get<ClusterConnection>() ?? new ClusterConnection();
            var cluster = ClusterConnection.ForClient(options.Cluster);
            (cluster.ClusterId, cluster.ServiceId) = (bound.ClusterId, bound.ServiceId);
            builder.UseOrleansClient(client => client.UseCascadeClustering(cluster));
        }
        builder.Services.AddSingleton<JobClient>();
        builder.Services.AddSingleton<TextWorkers>();
        builder.Services.AddSingleton<ImageLinks>();
        builder.Services.AddSingleton<StagesSeen>();
        builder.Services.AddOpenApi(options =>
        {
            ImageRequestFields.AddSchemas(options);
            ImageStream.AddResponses(options);
        });
        builder.Services.AddRequestLimits(options.Limits);

        var app = builder.Build();
        app.UseRequestSizeLimits();
        // Statuses that routing and model binding set without a body (404, 405, 415, ...) get an OpenAI-shaped one.
        app.UseStatusCodePages(context => ApiErrors.ForStatus(context.HttpContext).ExecuteAsync(context.HttpContext));
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseRateLimiter(); // after the key check: limits are per key
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapOpenApi();
        app.MapImagesApi();
        app.MapJobsApi();
        app.MapHealthApi();
        app.MapVocabularyApi();
        app.MapModelsApi();
        return app;
    }
}
