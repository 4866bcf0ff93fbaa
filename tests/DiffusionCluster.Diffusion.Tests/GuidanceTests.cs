using DiffusionCluster.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion.Tests;

public class GuidanceTests
{
    [Fact]
    public void Classifier_free_guidance_with_weight_one_is_the_conditional_prediction()
    {
        var g = new Generator(20);
        using var cond = randn(new long[] { 2, 3, 4, 4 }, generator: g);
        using var uncond = randn(new long[] { 2, 3, 4, 4 }, generator: g);

        using var guided = ClassifierFreeGuidance.Combine(cond, uncond, 1.0, 3);

        Assert.True(Oracles.MaxAbsDiff(guided, cond) < 1e-6);
    }

    [Fact]
    public void Classifier_free_guidance_extrapolates_linearly()
    {
        using var cond = full(new long[] { 1, 1, 1, 1 }, 2.0f);
        using var uncond = full(new long[] { 1, 1, 1, 1 }, 1.0f);

        using var guided = ClassifierFreeGuidance.Combine(cond, uncond, 4.0, 1);

        Assert.Equal(5.0f, guided.item<float>(), 5);
    }

    [Fact]
    public void Guidance_leaves_learned_variance_channels_from_the_conditional_half()
    {
        var g = new Generator(21);
        using var cond = randn(new long[] { 1, 6, 4, 4 }, generator: g);
        using var uncond = randn(new long[] { 1, 6, 4, 4 }, generator: g);

        using var guided = ClassifierFreeGuidance.Combine(cond, uncond, 7.5, 3);

        Assert.Equal(new long[] { 1, 6, 4, 4 }, guided.shape);
        Assert.Equal(0, Oracles.MaxAbsDiff(guided[.., 3..], cond[.., 3..]));
        Assert.True(Oracles.MaxAbsDiff(guided[.., ..3], cond[.., ..3]) > 1e-2);
    }

    [Fact]
    public void Guide_runs_one_doubled_batch_and_combines_its_halves()
    {
        int calls = 0;
        Tensor Model(Tensor x, int t)
        {
            calls++;
            Assert.Equal(4, x.shape[0]);
            return cat(new[] { ones(2, 3, 4, 4) * 3, ones(2, 3, 4, 4) }, 0);
        }
        var denoiser = ClassifierFreeGuidance.Guide(Model, 2.0, 3);

        using var output = denoiser(zeros(2, 3, 4, 4), 10);

        Assert.Equal(1, calls);
        Assert.Equal(5.0f, output[0, 0, 0, 0].item<float>(), 5);
    }

    [Fact]
    public void Gradient_guidance_shifts_the_ddpm_mean_by_variance_times_gradient()
    {
        var s = NoiseSchedule.Linear(1000);
        var steps = Respacing.Evenly(10, 1000);
        var scheduler = new DdpmScheduler(s, steps);
        using var xt = randn(new long[] { 1, 3, 4, 4 }, generator: new Generator(22));
        using var x0 = zeros(1, 3, 4, 4);
        using var eps = randn(new long[] { 1, 3, 4, 4 }, generator: new Generator(23));
        using var gradient = full(new long[] { 1, 3, 4, 4 }, 0.5f);

        using var plain = scheduler.Step(0, xt, new SchedulerInput(x0, eps), new Generator(24));
        using var guided = scheduler.Step(0, xt, new SchedulerInput(x0, eps, Gradient: gradient), new Generator(24));

        double aT = s.AlphaBar(steps[^1]), aPrev = s.AlphaBar(steps[^2]);
        double variance = (1 - aT / aPrev) * (1 - aPrev) / (1 - aT);
        using var shift = (guided - plain).mean();
        Assert.Equal(0.5 * variance, shift.item<float>(), 4);
    }
}
