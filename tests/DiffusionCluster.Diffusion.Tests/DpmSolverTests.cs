using DiffusionCluster.Diffusion;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion.Tests;

public class DpmSolverTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(PredictionType.Epsilon, 3)]
    [InlineData(PredictionType.Velocity, 2)]
    [InlineData(PredictionType.Sample, 7)]
    [InlineData(PredictionType.Velocity, 50)]
    public void Oracle_denoiser_recovers_x0_exactly_at_any_step_count(PredictionType type, int steps)
    {
        var s = NoiseSchedule.Cosine(1000);
        var generator = new Generator(11);
        using var x0 = rand(new long[] { 2, 3, 8, 8 }, generator: generator) * 2 - 1;
        using var xT = randn(new long[] { 2, 3, 8, 8 }, generator: generator);
        var scheduler = new DpmSolverScheduler(s, Respacing.AboveZero(steps, s.Length));

        using var result = Sampler.Sample(Oracles.PointMass(x0, s, type), xT, scheduler, new SamplerOptions { Prediction = type });

        Assert.True(Oracles.MaxAbsDiff(result, x0) < 1e-4, $"max error {Oracles.MaxAbsDiff(result, x0)}");
    }

    [Fact]
    public void A_point_mass_trajectory_stays_on_the_exact_marginal_path()
    {
        // With the exact denoiser of a single point, x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps for the eps of x_T:
        // every intermediate state the solver visits must be that, extrapolation included.
        var s = NoiseSchedule.Linear(1000);
        using var x0 = full(new long[] { 1, 3, 4, 4 }, 0.4f);
        using var xT = randn(new long[] { 1, 3, 4, 4 }, generator: new Generator(12));
        var scheduler = new DpmSolverScheduler(s, Respacing.AboveZero(6, s.Length));
        var oracle = Oracles.PointMass(x0, s, PredictionType.Epsilon);
        double aT = s.AlphaBar(scheduler.Timesteps[0]);
        using var eps = (xT - Math.Sqrt(aT) * x0) / Math.Sqrt(1 - aT);
        var errors = new List<double>();
        var refinement = new Recorder((x, t) =>
        {
            if (t < 0) return;
            using var expected = Math.Sqrt(s.AlphaBar(t)) * x0 + Math.Sqrt(1 - s.AlphaBar(t)) * eps;
            errors.Add(Oracles.MaxAbsDiff(x, expected));
        });

        using var _ = Sampler.Sample(oracle, xT, scheduler, new SamplerOptions { Refinement = refinement });

        Assert.Equal(5, errors.Count);
        Assert.All(errors, e => Assert.True(e < 1e-4, $"state off the path by {e}"));
    }

    [Fact]
    public void Its_error_on_the_gaussian_ode_falls_as_the_square_of_the_step_while_ddims_falls_linearly()
    {
        // For N(mean, std^2) data the probability-flow ODE keeps (x_t - sqrt(a) mean) / sqrt(a std^2 + 1 - a) fixed,
        // so its solution between two timesteps is known exactly. Both solvers run from t = 900 to t = 100 over the
        // same n evenly spaced timesteps and end with the same denoising step from t = 100, so the difference between
        // them and the exact answer is integration error alone. (From t = 999 the first step's log-SNR jump barely
        // shrinks with n on this schedule, which hides the order.)
        var s = NoiseSchedule.Cosine(1000);
        const double mean = 0.2, std = 0.5;
        const int first = 900, last = 100;
        using var start = randn(new long[] { 1, 3, 8, 8 }, dtype: float64, generator: new Generator(13));
        var oracle = Oracles.Gaussian(mean, std, s, PredictionType.Epsilon);
        double Spread(int t) => Math.Sqrt(s.AlphaBar(t) * std * std + 1 - s.AlphaBar(t));
        using var onPath = Math.Sqrt(s.AlphaBar(last)) * mean + Spread(last) * (start - Math.Sqrt(s.AlphaBar(first)) * mean) / Spread(first);
        using var eps = oracle(onPath, last);
        using var exact = (onPath - Math.Sqrt(1 - s.AlphaBar(last)) * eps) / Math.Sqrt(s.AlphaBar(last));
        double Error(int steps, Func<int[], IScheduler> solver)
        {
            var timesteps = Enumerable.Range(0, steps).Select(i => last + (first - last) * i / (steps - 1)).ToArray();
            using var result = Sampler.Sample(oracle, start, solver(timesteps), new SamplerOptions());
            return Oracles.MaxAbsDiff(result, exact);
        }
        double Ddim(int n) => Error(n, t => new DdimScheduler(s, t));
        double Dpm(int n) => Error(n, t => new DpmSolverScheduler(s, t));

        double ddim10 = Ddim(10), ddim20 = Ddim(20), dpm10 = Dpm(10), dpm20 = Dpm(20), dpm40 = Dpm(40);
        output.WriteLine($"DDIM 10/20: {ddim10:E2} {ddim20:E2}; DPM-Solver++(2M) 10/20/40: {dpm10:E2} {dpm20:E2} {dpm40:E2}");

        Assert.InRange(ddim10 / ddim20, 1.6, 2.6);
        Assert.True(dpm20 / dpm40 > 3, $"halving the step cut DPM-Solver++'s error by {dpm20 / dpm40:F2}; second order gives about 4");
        Assert.True(dpm10 < ddim10 / 4, $"10 steps: DPM-Solver++ {dpm10:E2} against DDIM {ddim10:E2}");
    }

    [Fact]
    public void Resampling_rounds_of_a_step_extrapolate_from_the_same_previous_estimate()
    {
        // RePaint runs each step several times; with a point mass every round must still land on the exact path.
        var s = NoiseSchedule.Cosine(1000);
        using var x0 = full(new long[] { 1, 3, 4, 4 }, -0.3f);
        using var xT = randn(new long[] { 1, 3, 4, 4 }, generator: new Generator(14));
        var scheduler = new DpmSolverScheduler(s, Respacing.AboveZero(8, s.Length));

        using var result = Sampler.Sample(Oracles.PointMass(x0, s, PredictionType.Velocity), xT, scheduler,
            new SamplerOptions { Prediction = PredictionType.Velocity, Resample = 3, Generator = new Generator(15) });

        Assert.True(Oracles.MaxAbsDiff(result, x0) < 1e-4);
    }

    [Fact]
    public void Above_zero_spacing_ends_near_t_over_n_and_never_visits_zero()
    {
        Assert.Equal(new[] { 250, 500, 749, 999 }, Respacing.AboveZero(4, 1000));
        Assert.Equal(new[] { 999 }, Respacing.AboveZero(1, 1000));
        Assert.Equal(Enumerable.Range(0, 10).ToArray(), Respacing.AboveZero(10, 10));
    }

    sealed class Recorder(Action<Tensor, int> record) : IStepRefinement
    {
        public Tensor Refine(Tensor x, int timestep, NoiseSchedule schedule, Generator? generator)
        {
            record(x, timestep);
            return x;
        }
    }
}
