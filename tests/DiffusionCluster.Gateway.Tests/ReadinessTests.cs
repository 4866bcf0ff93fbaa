using DiffusionCluster.Gateway.Apis;

namespace DiffusionCluster.Gateway.Tests;

/// Readiness names a stage whose hosts are all gone, which the cluster alone cannot tell from a stage it never had.
public sealed class ReadinessTests
{
    [Fact]
    public void A_stage_seen_hosted_before_and_without_a_host_now_is_missing()
    {
        var seen = new StagesSeen();
        Assert.Empty(seen.Missing(new Dictionary<string, int> { ["text"] = 2, ["sr256"] = 1 }));

        Assert.Equal(["sr256"], seen.Missing(new Dictionary<string, int> { ["text"] = 2 }));
        Assert.Empty(seen.Missing(new Dictionary<string, int> { ["text"] = 1, ["sr256"] = 1 }));
    }
}
