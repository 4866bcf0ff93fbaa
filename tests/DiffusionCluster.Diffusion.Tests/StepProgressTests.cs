using DiffusionCluster.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion.Tests;

/// The sampler's progress: each step's count and its estimate of the clean sample, for live previews.
public sealed class StepProgressTests
{
    // Epsilon prediction's x0 at the first, noisiest step is float32 round-off over a tiny sqrt(alpha_bar).
    [Theory]
    [InlineData(PredictionType.Sample)]
    [InlineData(PredictionType.Velocity)]
    public void Each_step_reports_its_count_and_the_oracle_s_clean_sample_as_its_estimate(PredictionType type)
    {
        var schedule = NoiseSchedule.Cosine(1000);
        var generator = new Generator(3);
        using var x0 = rand(new long[] { 2, 3, 8, 8 }, generator: generator) * 2 - 1;
        using var xT = randn(new long[] { 2, 3, 8, 8 }, generator: generator);
        var reports = new List<(int Done, int Total, double Error)>();

        using var result = Sampler.Sample(Oracles.PointMass(x0, schedule, type), xT, new DdimScheduler(schedule, Respacing.Evenly(6, 1000)), new SamplerOptions
        {
            Prediction = type,
            Progress = (done, total, estimate) => reports.Add((done, total, Oracles.MaxAbsDiff(estimate!(), x0))),
        });

        Assert.Equal(Enumerable.Range(1, 6), reports.Select(r => r.Done));
        Assert.All(reports, r => Assert.Equal(6, r.Total));
        Assert.All(reports, r => Assert.True(r.Error < 1e-4, $"step {r.Done}: max error {r.Error}"));
    }

    [Fact]
    public void What_a_progress_call_makes_from_the_estimate_is_disposed_when_it_returns()
    {
        var schedule = NoiseSchedule.Cosine(1000);
        using var x0 = zeros(1, 3, 8, 8);
        using var xT = ones(1, 3, 8, 8);
        var options = new SamplerOptions
        {
            Prediction = PredictionType.Epsilon,
            // A preview's work: a copy scaled to pixels, left for the sampler to dispose.
            Progress = (_, _, estimate) => _ = ((estimate!() + 1) * 127.5).round(),
        };

        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (Sampler.Sample(Oracles.PointMass(x0, schedule, PredictionType.Epsilon), xT, new DdimScheduler(schedule, Respacing.Evenly(20, 1000)), options)) { }
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(before, after);
    }
}
