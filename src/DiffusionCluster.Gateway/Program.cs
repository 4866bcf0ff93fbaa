using DiffusionCluster.Gateway;

// A client of a cluster (Gateway__Cluster); src/DiffusionCluster.Server runs the gateway with its own silo.
var app = GatewayApp.Build(args);
await app.RunAsync();
