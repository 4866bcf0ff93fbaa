using DiffusionCluster.Gateway;

DiffusionCluster.Diffusion.TorchRuntime.Initialise();
var app = GatewayApp.Build(args);
await app.RunAsync();
