using DiffusionCluster.Gateway;
using DiffusionCluster.Grains.Hosting;
using DiffusionCluster.Models.Cascade;

// The gateway with a silo of its own, unless Gateway__Cluster names a cluster to be a client of.
DiffusionCluster.Diffusion.TorchRuntime.Initialise();
var app = GatewayApp.Build(args, embeddedSilo: builder =>
{
    // `dotnet run --project src/DiffusionCluster.Server` starts in the project's folder: find the bundled cascade
    // above it unless Silo:ModelFolder says where the models are.
    if (builder.Configuration["Silo:ModelFolder"] is null && FindBundled() is { } folder) builder.Configuration["Silo:ModelFolder"] = folder;
    builder.AddCascadeSilo();
});
await app.RunAsync();

static string? FindBundled()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, CascadeFolder.Bundled))) return Path.Combine(dir.FullName, CascadeFolder.Bundled);
    return null;
}
