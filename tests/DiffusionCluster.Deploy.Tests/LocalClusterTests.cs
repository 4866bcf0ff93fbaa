namespace DiffusionCluster.Deploy.Tests;

/// deploy/local-cluster.sh runs the chart's layout on this machine: PostgreSQL, three silo pools, the gateway.
public sealed class LocalClusterTests
{
    [Fact]
    public void The_local_three_pool_cluster_generates_an_image_through_the_gateway()
    {
        var (code, output) = Repository.Run(Path.Combine(Repository.Root, "deploy", "local-cluster.sh"), "--smoke", TimeSpan.FromMinutes(8));

        Assert.True(code == 0, output);
        Assert.Contains("ready: 3 silo(s)", output);
        Assert.Contains("smoke test: 256x256 PNG through the gateway and three pools", output);
    }
}
