using DiffusionCluster.Abstractions;
using System.Diagnostics;

namespace DiffusionCluster.Grains.Tests;

/// A stage with no host waits for one to join within Silo:StageRecoverySeconds, then fails naming the wait.
public sealed class StageRecoveryTests
{
    [Fact]
    public async Task A_request_waits_for_a_host_that_joins_within_the_recovery_window()
    {
        await using var cluster = await StageCluster.Start(["text,prior,decoder64", "sr256"],
            new() { ["Silo:StageRecoverySeconds"] = "120" }, initialSilos: 1);

        var request = cluster.Request().Generate(Specs.Quick(size: 256));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(request.IsCompleted, "the request ended before any silo hosted sr256");
        await cluster.AddSilo();
        var result = await request.WaitAsync(TimeSpan.FromSeconds(100));

        var sr256 = Assert.Single(result.Stages, s => s.Stage == CascadeStage.Sr256);
        Assert.Contains(CascadeStage.Sr256, cluster.HostedStages()[sr256.Silo]);
    }

    [Fact]
    public async Task Without_a_host_the_request_fails_after_the_recovery_window_naming_it()
    {
        await using var cluster = await StageCluster.Start(["text,prior,decoder64"], new() { ["Silo:StageRecoverySeconds"] = "2" });
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => cluster.Request().Generate(Specs.Quick(size: 256)));

        Assert.Contains("no active silo hosts stage sr256 (waited 2 s, Silo:StageRecoverySeconds, for one to join)", error.Message);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"failed after {clock.Elapsed.TotalSeconds:0.0} s, inside the window");
    }
}
