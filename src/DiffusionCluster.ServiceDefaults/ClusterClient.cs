using Orleans.Configuration;
using Orleans.Hosting;

namespace DiffusionCluster.ServiceDefaults;

/// Wires a client of the cascade cluster (the gateway, the CLI's --cluster): clustering, message limits, trace context.
public static class ClusterClient
{
    public static IClientBuilder UseCascadeClustering(this IClientBuilder client, ClusterConnection cluster)
    {
        cluster.Validate();
        client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (cluster.ClusterId, cluster.ServiceId));
        client.Configure<ClientMessagingOptions>(o =>
        {
            o.MaxMessageBodySize = ClusterConnection.MaxMessageBytes;
            o.ResponseTimeout = TimeSpan.FromMinutes(2);
        });
        if (cluster.IsPostgres)
            client.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", cluster.ConnectionString));
        else
            client.UseLocalhostClustering(cluster.GatewayPort, cluster.ServiceId, cluster.ClusterId);
        // The caller's trace context travels with every grain call.
        client.AddActivityPropagation();
        return client;
    }
}
