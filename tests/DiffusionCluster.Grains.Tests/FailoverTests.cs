using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Tests;

/// A silo dying mid-stage costs a retry, not the request.
public sealed class FailoverTests
{
    [Fact]
    public async Task Killing_the_silo_running_a_stage_moves_the_stage_to_another_host_and_the_request_completes()
    {
        await using var cluster = await StageCluster.Start(["text,prior", "base64", "base64"]);
        var request = cluster.Request();
        var run = request.Generate(Specs.Quick() with { Decoder = new SamplingSpec(400, 2.0) });
        while ((await request.GetProgress()) is not { Stage: CascadeStage.Base64, Step: >= 2 })
            await Task.Delay(10);

        // Kill whichever base64 silo is running it: the one whose base64 worker is busy.
        var busy = cluster.Cluster.Silos.Skip(1).Single(s =>
            s.ServiceProvider.GetService(typeof(Stages.HostedStages)) is Stages.HostedStages h && h.Load()[CascadeStage.Base64] > 0);
        var killed = busy.SiloAddress.ToString();
        await cluster.Cluster.KillSiloAsync(busy);
        var result = await run;

        var base64 = result.Stages.Single(s => s.Stage == CascadeStage.Base64);
        Assert.NotEqual(killed, base64.Silo);
        Assert.Equal(2, base64.Attempt);
    }
}
