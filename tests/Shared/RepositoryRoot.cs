namespace DiffusionCluster.Tests.Shared;

/// The checkout the tests run from: the folder above the test binaries that holds DiffusionCluster.sln.
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "DiffusionCluster.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("repository root not found above " + AppContext.BaseDirectory);
    }
}
