using System.Diagnostics;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Tests;

/// Cancellation and deadlines stop a request between denoising steps; progress is readable while it runs.
public sealed class CancellationTests : IAsyncLifetime
{
    StageCluster _cluster = null!;
    /// The tiny cascade's sr256 (about 40 ms a step) run for 1000 steps: tens of seconds of work to interrupt.
    static readonly GenerationSpec Long = Specs.Quick(size: 256) with { Sr256 = new SamplingOptions(1000, 1.0, "static", AugmentationLevel: 100) };

    public async Task InitializeAsync() => _cluster = await StageCluster.Start(["text,prior,decoder64", "sr256"]);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    static async Task<GenerationProgress> WaitForStep(IGenerationGrain request, CascadeStage stage, int step)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var progress = await request.GetProgress();
            if (progress.Stage == stage && progress.Step >= step) return progress;
            await Task.Delay(10);
        }
        throw new TimeoutException($"{stage.Name()} never reached step {step}");
    }

    async Task<TimeSpan> TimeUntilSr256IsIdle()
    {
        var stages = _cluster.Cluster.Silos
            .Select(s => (Stages.HostedStages)s.ServiceProvider.GetService(typeof(Stages.HostedStages))!)
            .Single(h => h.Hosts(CascadeStage.Sr256));
        var clock = Stopwatch.StartNew();
        while (stages.Load()[CascadeStage.Sr256] > 0 && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(5);
        return clock.Elapsed;
    }

    [Fact]
    public async Task Progress_names_the_stage_and_step_while_the_request_runs()
    {
        var request = _cluster.Request();
        var run = request.Generate(Long);

        var progress = await WaitForStep(request, CascadeStage.Sr256, 3);
        await request.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        Assert.Equal(GenerationState.Running, progress.State);
        Assert.Equal(1000, progress.TotalSteps);
    }

    [Fact]
    public async Task Cancel_stops_the_denoising_loop_within_a_step()
    {
        var request = _cluster.Request();
        var run = request.Generate(Long);
        var before = await WaitForStep(request, CascadeStage.Sr256, 5);

        await request.Cancel();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        var idleAfter = await TimeUntilSr256IsIdle();
        var next = await _cluster.Request().Generate(Specs.Quick(size: 256));

        Assert.Contains("cancelled during stage sr256", error.Message);
        // ~1000 steps were left: a loop that ignored cancellation would keep the worker busy for many seconds.
        Assert.True(idleAfter < TimeSpan.FromSeconds(1), $"sr256 was still busy {idleAfter.TotalMilliseconds:F0} ms after cancellation");
        Assert.True(next.Stages[3].QueueMilliseconds < 1000, $"queued {next.Stages[3].QueueMilliseconds} ms behind a cancelled request");
        Assert.Equal(GenerationState.Cancelled, (await request.GetProgress()).State);
    }

    [Fact]
    public async Task A_request_past_its_deadline_ends_with_a_deadline_error()
    {
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _cluster.Request().Generate(Long with { DeadlineSeconds = 1.5 }));

        Assert.Contains("deadline of 1.5 s passed", error.Message);
    }

    [Fact]
    public async Task A_watcher_hears_of_new_steps_as_they_happen_and_of_an_end_at_once()
    {
        var request = _cluster.Request();
        var run = request.Generate(Long);
        var seen = await WaitForStep(request, CascadeStage.Sr256, 2);

        var clock = Stopwatch.StartNew();
        var next = await request.WatchProgress(seen.Version, TimeSpan.FromSeconds(30));
        var heardAfter = clock.Elapsed;
        await request.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        var ended = await request.GetProgress();
        clock.Restart();
        var afterEnd = await request.WatchProgress(ended.Version, TimeSpan.FromSeconds(30));
        var endedAfter = clock.Elapsed;

        Assert.True(next.Version > seen.Version);
        Assert.True(next.Step > seen.Step, $"step {next.Step} after {seen.Step}");
        Assert.True(heardAfter < TimeSpan.FromSeconds(5), $"the next step was heard after {heardAfter.TotalSeconds:F1} s");
        Assert.Equal(GenerationState.Cancelled, afterEnd.State);
        Assert.True(endedAfter < TimeSpan.FromSeconds(5), $"an ended request's watch took {endedAfter.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task A_watch_on_a_request_that_does_not_change_lasts_its_timeout_and_a_step_report_for_another_stage_changes_nothing()
    {
        var request = _cluster.Request();
        var before = await request.GetProgress();

        await request.ReportStep(CascadeStage.Decoder64, 3, 10);
        var clock = Stopwatch.StartNew();
        var after = await request.WatchProgress(before.Version, TimeSpan.FromMilliseconds(500));

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(450), $"returned after {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(before, after);
    }
}
