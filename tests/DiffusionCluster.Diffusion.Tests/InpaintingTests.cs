using DiffusionCluster.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion.Tests;

public class InpaintingTests
{
    static readonly NoiseSchedule Schedule = NoiseSchedule.Cosine(1000);

    [Fact]
    public void Inpainting_keeps_the_known_pixels_and_the_oracle_fills_the_rest()
    {
        using var truth = rand(new long[] { 1, 3, 8, 8 }, generator: new Generator(40)) * 2 - 1;
        using var keep = zeros(1, 1, 8, 8);
        keep[.., .., ..4, ..] = 1;
        // The known image is right only where it is kept; the oracle knows the whole truth.
        using var known = where(keep > 0, truth, full_like(truth, 0.9));
        var scheduler = new DdimScheduler(Schedule, Respacing.Evenly(20, 1000));
        using var noise = randn(new long[] { 1, 3, 8, 8 }, generator: new Generator(41));

        using var result = Sampler.Sample(Oracles.PointMass(truth, Schedule, PredictionType.Velocity), noise, scheduler,
            new SamplerOptions { Prediction = PredictionType.Velocity, Refinement = new Inpainting(known, keep), Resample = 3, Generator = new Generator(42) });

        Assert.True(Oracles.MaxAbsDiff(result, truth) < 1e-4, $"differs from the truth by {Oracles.MaxAbsDiff(result, truth)}");
    }

    [Fact]
    public void Resampling_runs_the_model_that_many_times_per_step()
    {
        var scheduler = new DdimScheduler(Schedule, Respacing.Evenly(10, 1000));
        using var x0 = zeros(1, 1, 4, 4);
        var oracle = Oracles.PointMass(x0, Schedule, PredictionType.Epsilon);
        int calls = 0;
        Denoiser counted = (x, t) => { calls++; return oracle(x, t); };

        using var result = Sampler.Sample(counted, randn(1, 1, 4, 4), scheduler, new SamplerOptions { Resample = 4 });

        Assert.Equal(40, calls);
    }

    [Fact]
    public void Renoising_moves_a_sample_to_the_marginal_of_the_noisier_level()
    {
        using var x0 = full(new long[] { 200_000 }, 0.5);
        using var atFrom = Schedule.AddNoise(x0, randn(new long[] { 200_000 }, generator: new Generator(43)), 200);

        using var atTo = Sampler.Renoise(atFrom, 200, 400, Schedule, new Generator(44));

        double a = Schedule.AlphaBar(400);
        Assert.Equal(Math.Sqrt(a) * 0.5, atTo.mean().item<float>(), 2);
        Assert.Equal(Math.Sqrt(1 - a), atTo.std().item<float>(), 2);
    }

    [Fact]
    public void Inpainting_rejects_a_mask_of_the_wrong_shape()
    {
        var error = Assert.Throws<ArgumentException>(() => new Inpainting(zeros(1, 3, 8, 8), zeros(1, 1, 4, 4)));

        Assert.Contains("[B, 1, 8, 8]", error.Message);
    }
}

public class SlerpTests
{
    [Fact]
    public void Slerp_ends_at_its_inputs_and_follows_the_great_circle()
    {
        using var a = tensor(new float[] { 1, 0, 0, 0 }).view(1, 4);
        using var b = tensor(new float[] { 0, 1, 0, 0 }).view(1, 4);

        using var start = Slerp.Interpolate(a, b, 0);
        using var end = Slerp.Interpolate(a, b, 1);
        using var third = Slerp.Interpolate(a, b, 1.0 / 3);

        Assert.True(Oracles.MaxAbsDiff(start, a) < 1e-6);
        Assert.True(Oracles.MaxAbsDiff(end, b) < 1e-6);
        // A third of the way along a right angle: 30 degrees from a, still unit length.
        Assert.Equal(Math.Cos(Math.PI / 6), third[0, 0].item<float>(), 5);
        Assert.Equal(Math.Sin(Math.PI / 6), third[0, 1].item<float>(), 5);
    }

    [Fact]
    public void Slerp_uses_each_rows_dot_product()
    {
        // Row angles differ (90 and 60 degrees); an element-wise "dot" would not give these midpoints.
        using var a = tensor(new float[] { 1, 0, 1, 0 }).view(2, 2);
        using var b = tensor(new float[] { 0, 1, 0.5f, (float)Math.Sqrt(0.75) }).view(2, 2);

        using var middle = Slerp.Interpolate(a, b, 0.5);

        Assert.Equal(Math.Cos(Math.PI / 4), middle[0, 0].item<float>(), 5);
        Assert.Equal(Math.Cos(Math.PI / 6), middle[1, 0].item<float>(), 5);
        Assert.Equal(Math.Sin(Math.PI / 6), middle[1, 1].item<float>(), 5);
    }
}
