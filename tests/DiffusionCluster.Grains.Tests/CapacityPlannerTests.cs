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
    public void The_plan_for_a_synthetic_profile_matches_the_hand_computed_one()
    {
        var plans = CapacityPlanner.Plan(Profile, Cascade, targetImagesPerSecond: 2, size: 1024, utilisation: 0.7).ToDictionary(p => p.Stage);

        // text: batch 4 (200 img/s beats 100); busy 2 x 0.02 / 4 = 0.01 -> 1 replica; delay min(3 / 2 s, 0.01 s) = 10 ms.
        Assert.Equal((4, 1, 10.0), (plans["text"].BatchSize, plans["text"].Replicas, plans["text"].MaxQueueDelayMilliseconds));
        // prior: busy 2 x 1 / 1 = 2 -> ceil(2 / 0.7) = 3.
        Assert.Equal((1, 3, 0.0), (plans["prior"].BatchSize, plans["prior"].Replicas, plans["prior"].MaxQueueDelayMilliseconds));
        // decoder64: batch 4 (1 img/s); busy 2 x 4 / 4 = 2 -> 3 replicas; delay min(3 / (2/3) s, 2 s) = 2000 ms.
        Assert.Equal((4, 3, 2000.0), (plans["decoder64"].BatchSize, plans["decoder64"].Replicas, plans["decoder64"].MaxQueueDelayMilliseconds));
        // sr256: batch 2 (0.111 img/s); busy 2 x 18 / 2 = 18 -> ceil(25.7) = 26; delay min(1 / (2/26) s, 9 s) = 9000 ms.
        Assert.Equal((2, 26, 9000.0), (plans["sr256"].BatchSize, plans["sr256"].Replicas, Math.Round(plans["sr256"].MaxQueueDelayMilliseconds)));
        // sr1024: batch 1 (0.083 img/s beats 0.077); busy 24 -> ceil(34.3) = 35.
        Assert.Equal((1, 35, 0.0), (plans["sr1024"].BatchSize, plans["sr1024"].Replicas, plans["sr1024"].MaxQueueDelayMilliseconds));
        Assert.Equal(16, plans["decoder64"].MaxQueueLength);
        Assert.Contains("busy replicas = 2 x 4 / 4 = 2; replicas = ceil(2 / 0.7) = 3", plans["decoder64"].Arithmetic);
    }

    [Fact]
    public void A_slow_stage_waits_for_company_no_longer_than_the_batcher_allows()
    {
        // sr256 at x4: delay min(1 / (0.5/26) s, 72 / 2 s) = 36 s, over the batcher's 10 s limit, which any silo would refuse.
        var plans = CapacityPlanner.Plan(Profile.Slowed(4), Cascade, targetImagesPerSecond: 0.5, size: 1024, utilisation: 0.7).ToDictionary(p => p.Stage);

        Assert.Equal(26, plans["sr256"].Replicas); // Little's law: a quarter of the rate at four times the time
        Assert.Equal(Batching.BatchingOptions.MaxQueueDelayLimitMilliseconds, plans["sr256"].MaxQueueDelayMilliseconds);
        new Batching.BatchingOptions { MaxBatchSize = 2, MaxQueueDelayMilliseconds = plans["sr256"].MaxQueueDelayMilliseconds }.Validate("sr256");
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
        var yaml = CapacityPlanner.HelmValues(CapacityPlanner.Plan(Profile, Cascade, 2, 256, 0.7), "test");

        Assert.Contains("pools:\n  text:\n    replicas: 1\n    batching:\n      maxBatchSize: 4\n      maxQueueDelayMilliseconds: 10\n      maxQueueLength: 16\n", yaml.ReplaceLineEndings("\n"));
        Assert.Contains("  sr256:\n    replicas: 26\n", yaml.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_profile_without_a_needed_stage_is_refused()
    {
        var partial = Profile with { Stages = Profile.Stages.Take(3).ToList() };

        var error = Assert.Throws<ArgumentException>(() => CapacityPlanner.Plan(partial, Cascade, 1, 1024, 0.7));

        Assert.Contains("no timings for stage sr256", error.Message);
    }
}
