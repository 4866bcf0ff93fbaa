using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Imaging;

namespace DiffusionCluster.Grains.Tests;

/// Stage work runs only on silos that declared the stage, and each stage's model exists only there.
public sealed class PinningTests : IAsyncLifetime
{
    StageCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await StageCluster.Start(["text,prior", "decoder64", "sr256,sr1024"]);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Each_stage_of_a_1024_request_runs_on_the_silo_that_hosts_it()
    {
        var result = await _cluster.Request().Generate(Specs.Quick(size: 1024));

        var hosted = _cluster.HostedStages();
        Assert.Equal(CascadeStages.All, result.Stages.Select(s => s.Stage));
        foreach (var run in result.Stages)
            Assert.Contains(run.Stage, hosted[run.Silo]);
        Assert.Equal(3, result.Stages.Select(s => s.Silo).Distinct().Count());
        using var image = Png.Decode(result.Png);
        Assert.Equal(new long[] { 3, 1024, 1024 }, image.shape);
    }

    [Fact]
    public async Task A_64_request_stops_after_the_base_stage()
    {
        var result = await _cluster.Request().Generate(Specs.Quick(size: 64));

        Assert.Equal([CascadeStage.Text, CascadeStage.Prior, CascadeStage.Decoder64], result.Stages.Select(s => s.Stage));
        using var image = Png.Decode(result.Png);
        Assert.Equal(new long[] { 3, 64, 64 }, image.shape);
    }

    [Fact]
    public void A_silo_holds_executors_only_for_the_stages_it_declared()
    {
        var hosted = _cluster.HostedStages().Values.Select(v => v.OrderBy(s => s).ToArray()).OrderBy(v => v[0]).ToList();

        Assert.Equal([[CascadeStage.Text, CascadeStage.Prior], [CascadeStage.Decoder64], [CascadeStage.Sr256, CascadeStage.Sr1024]], hosted);
    }

    [Fact]
    public async Task A_stage_worker_addressed_to_a_silo_without_that_stage_refuses_to_activate()
    {
        var textSilo = _cluster.Cluster.Silos.Single(s => _cluster.HostedStages()[s.SiloAddress.ToString()].Contains(CascadeStage.Text));
        var worker = _cluster.Client.GetGrain<IStageWorkerGrain>($"sr1024/{textSilo.SiloAddress.ToParsableString()}");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => worker.Run(new StageInput { RequestId = Guid.NewGuid(), Stage = CascadeStage.Sr1024 }));

        Assert.Contains("does not host stage sr1024", error.Message);
    }

    [Fact]
    public async Task Bad_requests_fail_before_any_stage_with_the_value_and_the_limit()
    {
        var size = await Assert.ThrowsAsync<ArgumentException>(() => _cluster.Request().Generate(Specs.Quick() with { Size = 128 }));
        var steps = await Assert.ThrowsAsync<ArgumentException>(() => _cluster.Request().Generate(Specs.Quick() with { Decoder64 = new SamplingOptions(5000, 3, "none") }));
        var guidance = await Assert.ThrowsAsync<ArgumentException>(() => _cluster.Request().Generate(Specs.Quick() with { Prior = new SamplingOptions(10, -1, "none") }));
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => _cluster.Request().Generate(Specs.Quick() with { Prompt = "  " }));
        var objects = await Assert.ThrowsAsync<ArgumentException>(() => _cluster.Request().Generate(Specs.Quick() with { Prompt = string.Join(", ", Enumerable.Repeat("a red circle", 5)) }));
        var thresholding = await Assert.ThrowsAsync<ArgumentException>(() => _cluster.Request().Generate(Specs.Quick() with { Decoder64 = new SamplingOptions(5, 3, "dynamic:7") }));
        var layout = await Assert.ThrowsAsync<ArgumentException>(() => _cluster.Request().Generate(Specs.Quick() with { Decoder64 = new SamplingOptions(5, 3, "none", Layout: 2) }));

        Assert.Contains("size 128", size.Message);
        Assert.Contains("choose 64, 256, 1024", size.Message);
        Assert.Contains("steps = 5000; allowed 1 to 1000", steps.Message);
        Assert.Contains("guidance = -1; allowed 0 to 50", guidance.Message);
        Assert.Contains("prompt is empty", empty.Message);
        Assert.Contains("asks for 5 objects; this model draws at most 3", objects.Message);
        Assert.Contains("decoder64", thresholding.Message);
        Assert.Contains("layout = 2; allowed 0 to 1", layout.Message);
    }
}
