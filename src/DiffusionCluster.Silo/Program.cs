using DiffusionCluster.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

DiffusionCluster.Diffusion.TorchRuntime.Initialise();

// `schema`: apply the PostgreSQL clustering schema (Cluster__ConnectionString) and exit; the chart's hook Job.
if (args.FirstOrDefault() == "schema")
{
    var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args.Skip(1).ToArray()).Build();
    var connection = configuration["Cluster:ConnectionString"]
        ?? throw new ArgumentException("schema needs Cluster__ConnectionString (or --Cluster:ConnectionString=...)");
    await ClusterSchema.Apply(connection);
    Console.WriteLine("clustering schema applied");
    return;
}

using var host = SiloHostFactory.Build(args, logLevel: LogLevel.Information);
await host.RunAsync();
