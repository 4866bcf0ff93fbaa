using DiffusionCluster.Grains.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

DiffusionCluster.Diffusion.TorchRuntime.Initialise();
using var host = SiloHostFactory.Build(args, logLevel: LogLevel.Information);
await host.RunAsync();
