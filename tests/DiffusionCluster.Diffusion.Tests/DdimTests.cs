using DiffusionCluster.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion.Tests;

public class DdimTests
{
    static NoiseSchedule Schedule(string name) => name == "linear" ? NoiseSchedule.Linear(1000) : NoiseSchedule.Cosine(1000);

    [Theory]
    [InlineData("linear", PredictionType.Epsilon, 1)]
    [InlineData("cosine", PredictionType.Velocity, 1)]
    [InlineData("cosine", PredictionType.Epsilon, 7)]
    [InlineData("cosine", PredictionType.Velocity, 50)]
    [InlineData("linear", PredictionType.Sample, 25)]
    [InlineData("linear", PredictionType.Velocity, 1000)]
    public void Oracle_denoiser_recovers_x0_exactly_at_any_step_count(string schedule, PredictionType type, int steps)
    {
        var s = Schedule(schedule);
        var generator = new Generator(1);
        using var x0 = rand(new long[] { 2, 3, 8, 8 }, generator: generator) * 2 - 1;
        using var xT = randn(new long[] { 2, 3, 8, 8 }, generator: generator);
        var scheduler = new DdimScheduler(s, Respacing.Evenly(steps, s.Length));

        using var result = Sampler.Sample(Oracles.PointMass(x0, s, type), xT, scheduler, new SamplerOptions { Prediction = type });

        Assert.True(Oracles.MaxAbsDiff(result, x0) < 1e-4, $"max error {Oracles.MaxAbsDiff(result, x0)}");
    }

    [Fact]
    public void Oracle_recovers_x0_under_zero_terminal_snr_with_v_prediction()
    {
        var s = NoiseSchedule.Cosine(1000).WithZeroTerminalSnr();
        using var x0 = full(new long[] { 1, 3, 4, 4 }, 0.3f);
        using var xT = randn(new long[] { 1, 3, 4, 4 }, generator: new Generator(2));
        var scheduler = new DdimScheduler(s, Respacing.Evenly(20, s.Length));

        using var result = Sampler.Sample(Oracles.PointMass(x0, s, PredictionType.Velocity), xT, scheduler, new SamplerOptions { Prediction = PredictionType.Velocity });

        Assert.True(Oracles.MaxAbsDiff(result, x0) < 1e-4);
    }

    [Fact]
    public void Inversion_then_sampling_with_the_oracle_round_trips_the_image()
    {
        var s = NoiseSchedule.Cosine(1000);
        using var image = rand(new long[] { 2, 3, 8, 8 }, generator: new Generator(3)) * 2 - 1;
        var scheduler = new DdimScheduler(s, Respacing.Evenly(50, s.Length));
        var oracle = Oracles.PointMass(image, s, PredictionType.Velocity);

        using var latent = DdimInversion.Invert(oracle, PredictionType.Velocity, image, scheduler);
        using var decoded = Sampler.Sample(oracle, latent, scheduler, new SamplerOptions { Prediction = PredictionType.Velocity });

        Assert.True(Oracles.MaxAbsDiff(decoded, image) < 1e-4);
    }

    [Fact]
    public void Partial_inversion_stops_at_the_start_index_and_sampling_from_there_round_trips()
    {
        // With the point-mass oracle the state at timestep t is exactly sqrt(abar_t) x0 + sqrt(1 - abar_t) eps for the
        // eps DDIM inversion carries; starting the sampler at the same index must decode back to the image.
        var s = NoiseSchedule.Cosine(1000);
        using var image = rand(new long[] { 1, 3, 8, 8 }, generator: new Generator(7)) * 2 - 1;
        var scheduler = new DdimScheduler(s, Respacing.Evenly(20, s.Length));
        var oracle = Oracles.PointMass(image, s, PredictionType.Velocity);
        int start = SdEdit.StartIndex(0.5, scheduler);

        using var partial = DdimInversion.Invert(oracle, PredictionType.Velocity, image, scheduler, untilIndex: start);
        using var decoded = Sampler.Sample(oracle, partial, scheduler, new SamplerOptions { Prediction = PredictionType.Velocity, StartIndex = start });

        Assert.True(Oracles.MaxAbsDiff(decoded, image) < 1e-4);
        // Half-way down the schedule the latent is neither the image nor pure noise.
        double a = s.AlphaBar(scheduler.Timesteps[start]);
        Assert.InRange(a, 0.2, 0.8);
        Assert.True(Oracles.MaxAbsDiff(partial, image) > 1e-2);
        Assert.Throws<ArgumentOutOfRangeException>(() => DdimInversion.Invert(oracle, PredictionType.Velocity, image, scheduler, untilIndex: 20));
    }

    [Fact]
    public void Inversion_of_a_gaussian_data_model_converges_as_steps_grow()
    {
        // For N(mean, std^2) data the probability-flow ODE is known exactly, so inversion is well posed:
        // x_T -> sample -> invert must come back to x_T, with discretisation error shrinking with steps.
        var s = NoiseSchedule.Cosine(1000);
        using var xT = randn(new long[] { 1, 3, 8, 8 }, generator: new Generator(4));
        double Error(int steps)
        {
            var scheduler = new DdimScheduler(s, Respacing.Evenly(steps, s.Length));
            var oracle = Oracles.Gaussian(0.2, 0.5, s, PredictionType.Epsilon);
            using var image = Sampler.Sample(oracle, xT, scheduler, new SamplerOptions());
            using var back = DdimInversion.Invert(oracle, PredictionType.Epsilon, image, scheduler);
            return Oracles.MaxAbsDiff(back, xT);
        }

        double coarse = Error(20), fine = Error(200);

        Assert.True(fine < coarse / 3, $"20 steps: {coarse}, 200 steps: {fine}");
        Assert.True(fine < 0.05, $"200 steps: {fine}");
    }

    [Fact]
    public void Eta_one_ddim_step_equals_the_ddpm_posterior_step()
    {
        var s = NoiseSchedule.Linear(1000);
        var steps = Respacing.Evenly(10, s.Length);
        using var xt = randn(new long[] { 2, 3, 4, 4 }, generator: new Generator(5));
        using var x0 = rand(new long[] { 2, 3, 4, 4 }, generator: new Generator(6));
        using var level = Parameterization.Level(s.AlphaBar(steps[^3]));
        using var eps = Parameterization.EpsFromX0(xt, x0, level);
        var input = new SchedulerInput(x0, eps);

        using var ddim = new DdimScheduler(s, steps, eta: 1).Step(2, xt, input, new Generator(7));
        using var ddpm = new DdpmScheduler(s, steps).Step(2, xt, input, new Generator(7));

        Assert.True(Oracles.MaxAbsDiff(ddim, ddpm) < 1e-5);
    }

    [Fact]
    public void Eta_zero_is_deterministic_and_positive_eta_follows_the_seed()
    {
        var s = NoiseSchedule.Cosine(1000);
        using var x0 = zeros(1, 3, 4, 4);
        using var xT = randn(new long[] { 1, 3, 4, 4 }, generator: new Generator(8));
        var oracle = Oracles.Gaussian(0, 0.5, s, PredictionType.Epsilon);
        Tensor Run(double eta, ulong seed) =>
            Sampler.Sample(oracle, xT, new DdimScheduler(s, Respacing.Evenly(10, 1000), eta), new SamplerOptions { Generator = new Generator(seed) });

        using var a = Run(1, 9);
        using var b = Run(1, 9);
        using var c = Run(1, 10);
        using var d = Run(0, 9);
        using var e = Run(0, 10);

        Assert.Equal(0, Oracles.MaxAbsDiff(a, b));
        Assert.True(Oracles.MaxAbsDiff(a, c) > 1e-3);
        Assert.Equal(0, Oracles.MaxAbsDiff(d, e));
    }
}
