namespace DiffusionCluster.Tests.Shared;

/// The checkout the tests run from: the folder above the test binaries that holds DiffusionCluster.sln.
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    /// The CLI built in the same configuration as the test assembly; a test project that runs it holds a
    /// build-order reference to the CLI project (ReferenceOutputAssembly="false") so a clean build has it.
    public static string Cli()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(System.IO.Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = System.IO.Path.Combine(Path, "src", "DiffusionCluster.Cli", "bin", configuration, "net10.0", "diffusion-cluster.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the CLI first: {dll} is missing");
    }

    static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "DiffusionCluster.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("repository root not found above " + AppContext.BaseDirectory);
    }
}
