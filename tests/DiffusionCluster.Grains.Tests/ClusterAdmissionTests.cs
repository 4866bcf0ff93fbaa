using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Tests;

/// Admission on a running cluster: a cold stage is measured before requests are weighed against it, and a saturated
/// cluster queues a job for its turn (AdmissionQueue) while it refuses a request that cannot queue.
public sealed class ClusterAdmissionTests
{
    [Fact]
    public async Task A_burst_larger_than_an_unmeasured_stage_s_queue_is_admitted_once_the_first_batch_measures_it()
    {
        // decoder64 holds one request queued and runs one at a time: a burst of four overfills it before it has run.
        await using var cluster = await StageCluster.Start(["text,prior,decoder64"], new()
        {
            ["Silo:Batching:decoder64:MaxQueueLength"] = "1",
            ["Silo:Batching:decoder64:MaxBatchSize"] = "1",
        });
        var requests = Enumerable.Range(0, 4).Select(_ => cluster.Request()).ToList();

        // The first fills decoder64's queue (counted ahead from its admission on); the other three arrive before
        // decoder64 has run anything.
        await requests[0].Start(Specs.Quick(seed: 0), "");
        var started = await Task.WhenAll(requests.Skip(1).Select((r, i) => r.Start(Specs.Quick(seed: (ulong)i + 1), "")));
        var results = await Task.WhenAll(requests.Select(r => r.Wait(TimeSpan.FromSeconds(60))));

        Assert.All(started, p => Assert.True(p.Exists));
        Assert.All(results, r => Assert.NotEmpty(r!.Png));
    }

    [Fact]
    public async Task A_job_the_saturated_cluster_cannot_start_now_is_queued_for_its_turn_and_completes_while_a_plain_start_is_refused()
    {
        // The stages take the CPU profile's time (SimulatedExecutor), not this machine's, so the deadlines below hold
        // whatever else the machine runs meanwhile; a quarter of each deadline is for waiting, the rest for the
        // request's own stages and the estimate's error, which grows with every request ahead when other test
        // assemblies load the machine (grain turns and messages between the simulated stages are real).
        await using var cluster = await StageCluster.Start(["text,prior,decoder64"], new()
        {
            ["Silo:Batching:decoder64:MaxBatchSize"] = "1",
            ["Silo:DeadlineWaitShare"] = "0.25",
            ["Silo:SimulatedProfile"] = Path.Combine(RepositoryRoot.Path, "docs", "bench", "scale-profile-cpu.json"),
        });
        var spec = Specs.Quick(steps: 5);
        for (int i = 0; i < 2; i++) await cluster.Request().Generate(spec);
        // A deadline that lets about six requests' decoder64 work wait ahead of a new one, at the service time
        // admission has measured.
        var hosted = (Stages.HostedStages)cluster.Cluster.Silos[0].ServiceProvider.GetService(typeof(Stages.HostedStages))!;
        var decoder64 = hosted.SecondsPerRequest()[CascadeStage.Decoder64];
        var job = spec with { DeadlineSeconds = Math.Max(1, 24 * decoder64) };
        var jobs = Enumerable.Range(0, 20).Select(_ => cluster.Request()).ToList();

        var accepted = new List<GenerationProgress>();
        foreach (var (request, i) in jobs.Select((r, i) => (r, i))) accepted.Add(await request.Queue(job with { Seed = (ulong)i }, "owner"));
        // A request that cannot queue, allowed a quarter of the wait: refused while the queue is full.
        var refused = await Assert.ThrowsAsync<StageOverloadedException>(() => cluster.Request().Start(job with { DeadlineSeconds = job.DeadlineSeconds / 4 }, "owner"));
        var results = await Task.WhenAll(jobs.Select(r => r.Wait(TimeSpan.FromSeconds(120))));

        var queued = accepted.Where(p => p.StartAfter is not null).ToList();
        Assert.NotEmpty(queued);
        Assert.Contains(accepted, p => p.StartAfter is null);
        Assert.All(queued, p => Assert.Equal(GenerationState.NotStarted, p.State));
        // Once any job has queued, every later one queues behind it (first come, first served).
        Assert.All(accepted.SkipWhile(p => p.StartAfter is null), p => Assert.NotNull(p.StartAfter));
        Assert.All(results, r => Assert.NotEmpty(r!.Png));
        Assert.Contains("the cluster is saturated: stage decoder64", refused.Message);
        Assert.True(refused.RetryAfterSeconds > 0);
    }

    [Fact]
    public async Task A_job_expected_to_wait_longer_than_the_queue_allows_is_refused_with_a_retry_hint()
    {
        await using var cluster = await StageCluster.Start(["text,prior,decoder64"], new()
        {
            ["Silo:Batching:decoder64:MaxBatchSize"] = "1",
            ["Silo:QueueSeconds"] = "0",
        });
        var spec = Specs.Quick(steps: 50);
        for (int i = 0; i < 2; i++) await cluster.Request().Generate(spec);
        var hosted = (Stages.HostedStages)cluster.Cluster.Silos[0].ServiceProvider.GetService(typeof(Stages.HostedStages))!;
        var job = spec with { DeadlineSeconds = Math.Max(1, 4 * hosted.SecondsPerRequest()[CascadeStage.Decoder64]) };

        StageOverloadedException? refused = null;
        for (int i = 0; i < 20 && refused is null; i++)
        {
            try { await cluster.Request().Queue(job with { Seed = (ulong)i }, "owner"); }
            catch (StageOverloadedException e) { refused = e; }
        }

        Assert.NotNull(refused);
        Assert.Contains("the cluster is saturated: stage decoder64", refused.Message);
        Assert.True(refused.RetryAfterSeconds > 0);
    }
}
