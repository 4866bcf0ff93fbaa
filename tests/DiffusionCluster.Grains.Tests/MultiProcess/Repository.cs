namespace DiffusionCluster.Grains.Tests.MultiProcess;

static class Repository
{
    public static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "DiffusionCluster.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("repository root not found above " + AppContext.BaseDirectory);
    }

    /// The CLI built in the same configuration as this test assembly (the solution build puts it there).
    public static string Cli()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = Path.Combine(Root(), "src", "DiffusionCluster.Cli", "bin", configuration, "net10.0", "diffusion-cluster.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the CLI first: {dll} is missing");
    }
}
