namespace DiffusionCluster.Grains.Tests.MultiProcess;

static class Repository
{
    public static string Root() => RepositoryRoot.Path;

    public static string Cli() => RepositoryRoot.Cli();
}
