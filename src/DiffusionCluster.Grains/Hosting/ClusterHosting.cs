using System.Diagnostics.Metrics;
using DiffusionCluster.Diffusion;
using Microsoft.Extensions.Logging;
using System.Net;
using DiffusionCluster.Grains.Placement;
using DiffusionCluster.Grains.Stages;
using DiffusionCluster.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using DiffusionCluster.Models.Cascade;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using DiffusionCluster.Grains.Requests;
using DiffusionCluster.Abstractions;
using Orleans.Runtime;

namespace DiffusionCluster.Grains.Hosting;

/// Wires a silo of the cascade cluster: stages, pinned placement, clustering, message limits (a client: ClusterClient).
public static class ClusterHosting
{
    /// Hosted stages (from the "Silo" section), the placement that pins stage workers, and start-up checks.
    public static ISiloBuilder AddCascadeStages(this ISiloBuilder silo)
    {
        silo.Services.AddOptions<SiloStageOptions>().BindConfiguration(SiloStageOptions.Section);
        silo.Services.AddSingleton<HostedStages>();
        // The stages the request grains walk, read from the silo's model folder.
        silo.Services.AddSingleton(services => CascadeFolder.Definition(services.GetRequiredService<IOptions<SiloStageOptions>>().Value.ModelFolder));
        silo.Services.AddHostedService<StageStartup>();
        silo.Services.AddHostedService<SiloHealthEndpoint>();
        silo.Services.AddPlacementDirector<SiloKeyPlacement, SiloKeyPlacementDirector>();
        silo.Configure<SiloMessagingOptions>(o =>
        {
            o.MaxMessageBodySize = ClusterConnection.MaxMessageBytes;
            // Stage calls carry their own [ResponseTimeout]; this covers the rest.
            o.ResponseTimeout = TimeSpan.FromMinutes(2);
        });
        return silo;
    }

    public static ISiloBuilder UseCascadeClustering(this ISiloBuilder silo, ClusterConnection cluster)
    {
        cluster.Validate();
        silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (cluster.ClusterId, cluster.ServiceId));
        // The strongly consistent directory: when a silo dies, the ranges it owned are rebuilt from the live silos'
        // activations. The default directory instead deactivates every grain whose entry the dead silo held, so
        // killing one stage silo restarted a share of the requests running elsewhere from their first stage.
#pragma warning disable ORLEANSEXP003
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        if (cluster.IsPostgres)
        {
            silo.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", cluster.ConnectionString));
            var address = string.IsNullOrWhiteSpace(cluster.AdvertisedAddress) ? null : IPAddress.Parse(cluster.AdvertisedAddress);
            silo.ConfigureEndpoints(address ?? IPAddress.Loopback, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: address is not null);
        }
        else
        {
            var primary = new IPEndPoint(IPAddress.Loopback, cluster.PrimarySiloPort == 0 ? cluster.SiloPort : cluster.PrimarySiloPort);
            silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, primary, cluster.ServiceId, cluster.ClusterId);
        }
        return silo;
    }

    /// Where request grains keep their records (RequestStore) and the reminders that resume a request whose silo
    /// was lost: PostgreSQL (deploy/postgresql/schema.sql) in a cluster, memory in one process.
    public static ISiloBuilder UseRequestStorage(this ISiloBuilder silo, ClusterConnection cluster)
    {
        silo.Services.AddSingleton<RequestStorageHealth>();
        silo.Services.AddSingleton<RequestBacklog>();
        silo.Services.AddSingleton<RetrySlots>();
        silo.Services.AddSingleton<AdmissionQueue>();
        // One router per silo, its round of silo descriptions shared by every request grain here. It reads this
        // silo's membership view, never the membership table: a database outage leaves requests running.
        silo.Services.AddSingleton(sp => new StageRouter(sp.GetRequiredService<IGrainFactory>(),
            () => ClusterViewGrain.Active(sp.GetRequiredService<IClusterMembershipService>()),
            TimeSpan.FromMilliseconds(sp.GetRequiredService<IOptions<SiloStageOptions>>().Value.RoutingRefreshMilliseconds)));
        if (cluster.IsPostgres)
        {
            silo.AddAdoNetGrainStorage(RequestStore.Name, o => (o.Invariant, o.ConnectionString, o.DeleteStateOnClear) = ("Npgsql", cluster.ConnectionString, true));
            silo.UseAdoNetReminderService(o => (o.Invariant, o.ConnectionString) = ("Npgsql", cluster.ConnectionString));
        }
        else
        {
            silo.AddMemoryGrainStorage(RequestStore.Name);
            silo.UseInMemoryReminderService();
        }
        // Orleans' own binary format: every type in a request record already has a serializer for grain calls, and it
        // keeps the image bytes as bytes.
        silo.Services.AddOptions<AdoNetGrainStorageOptions>(RequestStore.Name).Configure<Serializer>((o, s) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(s));
        silo.Services.AddOptions<MemoryGrainStorageOptions>(RequestStore.Name).Configure<Serializer>((o, s) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(s));
        silo.Services.AddOptions<ReminderOptions>().Configure<IOptions<SiloStageOptions>>((o, stages) =>
            o.MinimumReminderPeriod = TimeSpan.FromSeconds(Math.Min(60, stages.Value.RequestSweepSeconds)));
        return silo;
    }

    /// Validates the silo's stage configuration and loads its models when the host starts, so a missing
    /// model folder stops the silo with a clear error instead of failing the first request. Says which CPU kernels
    /// the process runs (a oneDNN that failed its start-up check is a warning) and exports it as dc.kernels.onednn.
    sealed class StageStartup(HostedStages stages, ILogger<HostedStages> log) : IHostedService
    {
        static readonly ObservableGauge<int> OneDnn = CascadeTelemetry.Meter.CreateObservableGauge("dc.kernels.onednn",
            () => TorchRuntime.OneDnn ? 1 : 0, "{bool}", "1 when CPU convolutions run on oneDNN, 0 when its start-up check against float64 failed and libtorch's native kernels run");

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = OneDnn;
            if (TorchRuntime.OneDnnFailed) log.LogWarning("{Kernels}", TorchRuntime.Describe());
            else log.LogInformation("{Kernels}", TorchRuntime.Describe());
            if (stages.WarmUp) stages.LoadModels();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
