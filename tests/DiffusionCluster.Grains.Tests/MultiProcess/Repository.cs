namespace DiffusionCluster.Grains.Tests.MultiProcess;

static class Repository
{
    public static string Root() => RepositoryRoot.Path;

    /// The CLI built in the same configuration as this test assembly (the solution build puts it there).
    public static string Cli()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = Path.Combine(Root(), "src", "DiffusionCluster.Cli", "bin", configuration, "net10.0", "diffusion-cluster.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the CLI first: {dll} is missing");
    }
}
