using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Capacity;

namespace DiffusionCluster.Grains.Tests;

public sealed class CapacityPlannerTests
{
    static readonly CascadeDefinition Cascade = new(DiffusionCluster.Models.Cascade.CascadeFolder.ShapesCascadeStages);
    static readonly StageProfile Profile = new("cpu", "test", "synthetic", 1024,
    [
        new("text", 0, [new(1, 0.01), new(4, 0.02)]),
        new("prior", 25, [new(1, 1.0)]),
        new("decoder64", 25, [new(1, 2.0), new(4, 4.0)]),
        new("sr256", 20, [new(1, 10.0), new(2, 18.0)]),
        new("sr1024", 10, [new(1, 12.0), new(2, 26.0)]),
    ]);

    [Fact]
    public void A_profile_keeps_each_batch_s_counted_work_and_the_device_peak_and_reads_profiles_without_them()
    {
        var counted = Profile with
        {
            Stages = [new("decoder64", 10, [new(1, 0.5, Gflop: 20), new(2, 0.8, Gflop: 40)])],
            PeakGflops = 200,
        };
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, counted.ToJson());
            var read = StageProfile.Read(file);
            Assert.Equal(200, read.PeakGflops);
            Assert.Equal([20.0, 40.0], read.Stages[0].Batches.Select(b => b.Gflop!.Value));
            Assert.Equal(50, read.Stages[0].Batches[1].GflopsPerSecond!.Value, 6);
            Assert.DoesNotContain("gflops_per_second", File.ReadAllText(file));

            File.WriteAllText(file, Profile.ToJson());
            read = StageProfile.Read(file);
            Assert.Null(read.PeakGflops);
            Assert.All(read.Stages.SelectMany(s => s.Batches), b => Assert.Null(b.GflopsPerSecond));
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Stages_that_do_not_batch_get_Little_s_law_replicas()
    {
        var plans = CapacityPlanner.Plan(Profile, Cascade, targetImagesPerSecond: 2, size: 1024, utilisation: 0.7).ToDictionary(p => p.Stage);

        // prior: batch 1 only; busy 2 x 1 / 1 = 2 -> ceil(2 / 0.7) = 3, at 2/3 utilisation.
        Assert.Equal((1, 3, 0.0), (plans["prior"].BatchSize, plans["prior"].Replicas, plans["prior"].MaxQueueDelayMilliseconds));
        Assert.Equal(2.0 / 3, plans["prior"].Utilisation, 0.02);
        // sr1024: batch 2 (26 s) is dearer per image than two of batch 1 (12 s): busy 24 -> ceil(34.3) = 35.
        Assert.Equal((1, 35), (plans["sr1024"].BatchSize, plans["sr1024"].Replicas));
        // text: one replica, nearly idle.
        Assert.Equal(1, plans["text"].Replicas);
        Assert.Equal(16, plans["decoder64"].MaxQueueLength);
    }

    [Fact]
    public void A_batching_stage_gets_the_fewest_replicas_its_simulated_pool_carries_under_the_target()
    {
        // decoder64: batch 4 takes 4 s (1 img/s per replica at full batches), batch 1 2 s. At 2 img/s, full batches
        // would need ceil(2 x 4 / 4 / 0.7) = 3 replicas and batch 1 ceil(2 x 2 / 0.7) = 6.
        var plan = CapacityPlanner.PlanStage(Profile.Stages[2], 2, 0.7);
        Assert.InRange(plan.Replicas, 3, 6);
        Assert.True(plan.Utilisation <= 0.7, plan.Arithmetic);
        Assert.Contains("fewest replicas at full batches = ceil(2 x 4 / 4 / 0.7) = 3", plan.Arithmetic);

        // One replica fewer, with either batching limit the planner tries, runs over the target.
        foreach (var batch in new[] { 1, 4 })
        foreach (var delaySeconds in new[] { 0.0, 2.0 })
        {
            var fewer = CascadeSimulation.Run([new SimulatedPool("decoder64", plan.Replicas - 1, batch, delaySeconds, Profile.Stages[2])],
                [new RequestClass("all", 1, ["decoder64"])], 2, 20_000).Pools["decoder64"];
            Assert.True(fewer.Utilisation > 0.7, $"batch {batch}, delay {delaySeconds} s: {fewer}");
        }
    }

    [Fact]
    public void A_pool_whose_replicas_see_few_requests_is_not_planned_at_full_batches()
    {
        // sr1024 of this machine's CPU profile x 4 at a third of 5 images/s (the 64-silo run): Little's law at full
        // batches of 4 asks for 18 replicas, but each then sees a request every 11 s, so batches of 4 never fill in
        // the 10 s delay: the simulated 18 run about full, as the cluster did.
        var sr1024 = new StageTimings("sr1024", 2, [new(1, 4 * 3.061), new(2, 4 * 5.315), new(4, 4 * 7.41)]);
        var fullBatchPlan = CascadeSimulation.Run([new SimulatedPool("sr1024", 18, 4, 10, sr1024)], [new RequestClass("all", 1, ["sr1024"])], 5.0 / 3, 20_000);
        Assert.True(fullBatchPlan.Pools["sr1024"].Utilisation > 0.85, fullBatchPlan.Pools["sr1024"].ToString());

        var plan = CapacityPlanner.PlanStage(sr1024, 5.0 / 3, 0.7);

        Assert.True(plan.Replicas > 18, plan.Arithmetic);
        Assert.True(plan.Utilisation <= 0.7, plan.Arithmetic);
    }

    [Fact]
    public void A_slow_stage_waits_for_company_no_longer_than_the_batcher_allows()
    {
        var plans = CapacityPlanner.Plan(Profile.Slowed(40), Cascade, targetImagesPerSecond: 0.05, size: 1024, utilisation: 0.7).ToDictionary(p => p.Stage);

        Assert.All(plans.Values, p => Assert.InRange(p.MaxQueueDelayMilliseconds, 0, Batching.BatchingOptions.MaxQueueDelayLimitMilliseconds));
        Assert.All(plans.Values, p => new Batching.BatchingOptions { MaxBatchSize = p.BatchSize, MaxQueueDelayMilliseconds = p.MaxQueueDelayMilliseconds }.Validate(p.Stage));
    }

    [Fact]
    public void The_predicted_cascade_runs_each_size_through_its_stages()
    {
        var cascade = Cascade;
        var plans = CapacityPlanner.Plan(Profile, cascade, 0.2, 1024, 0.7);
        var classes = new[] { 64, 1024 }.Select(size => new RequestClass($"{size}", 1, cascade.For(size).Select(s => s.Stage.Name()).ToList())).ToList();

        var predicted = CapacityPlanner.Predict(plans, Profile, classes, 0.2);

        // At least one batch of each stage a size runs: 1 + 2 + 0.01 s for 64 px, + 10 + 12 s for 1024 px.
        Assert.InRange(predicted.EndToEndSecondsByClass["64"].P50, 3.01, 10);
        Assert.InRange(predicted.EndToEndSecondsByClass["1024"].P50, 25.01, 40);
    }

    [Fact]
    public void A_64_pixel_plan_needs_only_the_first_three_stages()
    {
        var plans = CapacityPlanner.Plan(Profile, Cascade, 1, 64, 0.7);

        Assert.Equal(["text", "prior", "decoder64"], plans.Select(p => p.Stage));
    }

    [Fact]
    public void Helm_values_hold_one_pool_per_stage()
    {
        var plans = CapacityPlanner.Plan(Profile, Cascade, 2, 256, 0.7);
        var pools = PoolPlanner.Fold(plans, new Dictionary<string, IReadOnlyList<CascadeStage>>(), Profile, plans.ToDictionary(p => p.Stage, _ => 2.0), 0.7);
        var yaml = CapacityPlanner.HelmValues(pools, "test").ReplaceLineEndings("\n");

        Assert.StartsWith("# test\npools:\n  text:\n    replicas: 1\n    batching:\n      maxBatchSize: 4\n      maxQueueDelayMilliseconds: 0\n      maxQueueLength: 16\n", yaml);
        var sr256 = plans.Single(p => p.Stage == "sr256");
        Assert.Contains($"  sr256:\n    replicas: {sr256.Replicas}\n    batching:\n      maxBatchSize: {sr256.BatchSize}\n", yaml);
        Assert.DoesNotContain("null", yaml);
    }

    [Fact]
    public void A_pool_hosting_several_stages_is_sized_for_their_combined_work()
    {
        var plans = CapacityPlanner.Plan(Profile, Cascade, 0.5, 1024, 0.7);
        var pools = PoolPlanner.Fold(plans, PoolPlanner.Parse("decoder64=text,prior,decoder64"), Profile, plans.ToDictionary(p => p.Stage, _ => 0.5), 0.7);

        Assert.Equal(["decoder64", "sr256", "sr1024"], pools.Select(p => p.Name));
        var pool = pools[0];
        Assert.Equal(["text", "prior", "decoder64"], pool.Stages.Select(s => s.Stage));
        // Alone: prior ceil(0.5 x 1 / 0.7) = 1 replica at 50%, decoder64 at least 1; together they need more than either.
        Assert.True(pool.Replicas > plans.Where(p => p.Stage is "text" or "prior" or "decoder64").Max(p => p.Replicas), pool.Arithmetic);
        Assert.InRange(pool.Utilisation, 0, 0.7);
        Assert.Equal(pool.Utilisation, pool.Stages.Sum(s => s.Utilisation), 1e-9);
        Assert.All(pool.Stages, s => Assert.Equal(pool.Replicas, s.Replicas));

        var yaml = CapacityPlanner.HelmValues(pools, "test").ReplaceLineEndings("\n");
        Assert.StartsWith("# test\npools:\n  text: null\n  prior: null\n  decoder64:\n    stages: text,prior,decoder64\n", yaml);
        Assert.Contains("      - { name: Silo__Batching__prior__MaxBatchSize, value: \"1\" }", yaml);
    }

    [Theory]
    [InlineData("decoder64", "give NAME=STAGE,STAGE pairs")]
    [InlineData("base=text,prior;base=decoder64", "pool base is named twice")]
    [InlineData("a=text,prior;b=prior,decoder64", "stage prior is in pools a and b")]
    [InlineData("a=text,upscale", "upscale")]
    public void Bad_pools_are_refused_naming_the_problem(string pools, string message)
    {
        var plans = CapacityPlanner.Plan(Profile, Cascade, 0.5, 1024, 0.7);

        var error = Assert.ThrowsAny<ArgumentException>(() => PoolPlanner.Fold(plans, PoolPlanner.Parse(pools), Profile, plans.ToDictionary(p => p.Stage, _ => 0.5), 0.7));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_profile_without_a_needed_stage_is_refused()
    {
        var partial = Profile with { Stages = Profile.Stages.Take(3).ToList() };

        var error = Assert.Throws<ArgumentException>(() => CapacityPlanner.Plan(partial, Cascade, 1, 1024, 0.7));

        Assert.Contains("no timings for stage sr256", error.Message);
    }
}
