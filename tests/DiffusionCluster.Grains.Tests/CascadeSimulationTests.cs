using DiffusionCluster.Grains.Capacity;

namespace DiffusionCluster.Grains.Tests;

/// The planner's pool simulation against queueing theory's closed forms.
public sealed class CascadeSimulationTests
{
    static StageTimings Fixed(params (int Batch, double Seconds)[] batches) => new("s", 0, batches.Select(b => new BatchTiming(b.Batch, b.Seconds)).ToList());

    static PoolOutcome Pool(int replicas, int batch, double delaySeconds, StageTimings timings, double rate, int requests = 100_000, int seed = 1) =>
        CascadeSimulation.Run([new SimulatedPool("s", replicas, batch, delaySeconds, timings)], [new RequestClass("all", 1, ["s"])], rate, requests, seed).Pools["s"];

    [Fact]
    public void One_replica_without_batching_is_the_M_D_1_queue()
    {
        // Pollaczek-Khinchine for deterministic service S at load rho = lambda S: mean wait rho S / (2 (1 - rho)).
        const double s = 1, lambda = 0.6, rho = lambda * s;
        var pool = Pool(1, 1, 0, Fixed((1, s)), lambda);

        Assert.Equal(s + rho * s / (2 * (1 - rho)), pool.MeanStageSeconds, 0.05);
        Assert.Equal(rho, pool.Utilisation, 0.01);
        Assert.Equal(1, pool.MeanBatch);
    }

    [Fact]
    public void Utilisation_without_batching_is_the_offered_work_over_the_replicas()
    {
        var pool = Pool(5, 1, 0, Fixed((1, 2)), 1.5);

        Assert.Equal(1.5 * 2 / 5, pool.Utilisation, 0.01);
        // Least-loaded routing over five replicas at 60%: most requests find an idle one.
        Assert.Equal(2, pool.StageSeconds.P50, 1e-9);
    }

    [Fact]
    public void A_lone_replica_waiting_for_company_batches_what_arrives_within_its_delay()
    {
        // At low load a batch starts with one request and takes a second if one arrives within the delay D:
        // probability 1 - exp(-lambda D), so the mean batch is 2 - exp(-lambda D). The first waits D when alone.
        const double lambda = 0.05, delay = 2;
        var pool = Pool(1, 2, delay, Fixed((1, 0.01), (2, 0.01)), lambda);

        Assert.Equal(2 - Math.Exp(-lambda * delay), pool.MeanBatch, 0.01);
        Assert.Equal(delay + 0.01, pool.StageSeconds.P99, 1e-6);
    }

    [Fact]
    public void Requests_run_their_class_stages_in_order_and_the_end_to_end_time_is_their_sum_at_low_load()
    {
        var timings = new[] { Fixed((1, 0.5)) with { Stage = "a" }, Fixed((1, 1.5)) with { Stage = "b" } };
        var outcome = CascadeSimulation.Run(
            [new SimulatedPool("a", 50, 1, 0, timings[0]), new SimulatedPool("b", 50, 1, 0, timings[1])],
            [new RequestClass("short", 1, ["a"]), new RequestClass("long", 3, ["a", "b"])], 1, 20_000);

        Assert.Equal(0.5, outcome.EndToEndSecondsByClass["short"].P99, 1e-9);
        Assert.Equal(2.0, outcome.EndToEndSecondsByClass["long"].P99, 1e-9);
        // Pool b sees the long requests only: three quarters of the rate.
        Assert.Equal(0.75 * 1.5 / 50, outcome.Pools["b"].Utilisation, 0.002);
    }

    [Fact]
    public void The_same_seed_gives_the_same_outcome_and_another_seed_a_different_one()
    {
        var timings = Fixed((1, 1), (4, 2));

        Assert.Equal(Pool(3, 4, 0.5, timings, 2, 5_000, seed: 3), Pool(3, 4, 0.5, timings, 2, 5_000, seed: 3));
        Assert.NotEqual(Pool(3, 4, 0.5, timings, 2, 5_000, seed: 3).MeanStageSeconds, Pool(3, 4, 0.5, timings, 2, 5_000, seed: 4).MeanStageSeconds);
    }

    [Fact]
    public void Batch_times_between_measured_sizes_are_interpolated_and_beyond_them_scaled()
    {
        var timings = Fixed((2, 1.5), (4, 2.5));

        Assert.Equal((1.5, 1.5, 2.0, 2.5, 5.0), (timings.Seconds(1), timings.Seconds(2), timings.Seconds(3), timings.Seconds(4), timings.Seconds(8)));
    }
}
