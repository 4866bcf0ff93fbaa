using DiffusionCluster.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion.Tests;

public class EditingTests
{
    [Theory]
    [InlineData(1.0, 0)]
    [InlineData(0.5, 25)]
    public void SdEdit_starts_at_the_step_matching_its_strength(double strength, int expectedIndex)
    {
        var s = NoiseSchedule.Cosine(1000);
        var scheduler = new DdimScheduler(s, Respacing.Evenly(50, 1000));
        using var guide = zeros(1, 3, 8, 8);

        var (start, index) = SdEdit.Start(guide, strength, scheduler, new Generator(30));

        Assert.Equal(expectedIndex, index);
        Assert.True(scheduler.Timesteps[index] <= strength * 999 + 1e-9);
        start.Dispose();
    }

    [Fact]
    public void SdEdit_with_the_oracle_returns_the_guide()
    {
        var s = NoiseSchedule.Cosine(1000);
        var scheduler = new DdimScheduler(s, Respacing.Evenly(50, 1000));
        using var guide = rand(new long[] { 1, 3, 8, 8 }, generator: new Generator(31));
        var (start, index) = SdEdit.Start(guide, 0.6, scheduler, new Generator(32));

        using var result = Sampler.Sample(Oracles.PointMass(guide, s, PredictionType.Epsilon), start, scheduler, new SamplerOptions { StartIndex = index });

        Assert.True(Oracles.MaxAbsDiff(result, guide) < 1e-4);
        start.Dispose();
    }

    [Fact]
    public void SdEdit_rejects_a_strength_outside_zero_to_one()
    {
        var scheduler = new DdimScheduler(NoiseSchedule.Cosine(100), Respacing.Evenly(10, 100));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => SdEdit.Start(zeros(1, 3, 4, 4), 1.5, scheduler, null));

        Assert.Contains("(0, 1]", error.Message);
    }

    [Fact]
    public void Ilvr_at_the_last_step_gives_the_reference_low_frequencies()
    {
        var s = NoiseSchedule.Cosine(1000);
        using var reference = rand(new long[] { 1, 3, 16, 16 }, generator: new Generator(33));
        using var sample = rand(new long[] { 1, 3, 16, 16 }, generator: new Generator(34));
        var ilvr = new Ilvr(reference, factor: 4);

        using var refined = ilvr.Refine(sample, -1, s, null);
        using var refinedLow = ilvr.LowPass(refined);
        using var referenceLow = ilvr.LowPass(reference);
        using var sampleHigh = sample - ilvr.LowPass(sample);
        using var refinedHigh = refined - refinedLow;

        Assert.True(Oracles.MaxAbsDiff(refinedLow, referenceLow) < 1e-5, $"low frequencies differ by {Oracles.MaxAbsDiff(refinedLow, referenceLow)}");
        Assert.True(Oracles.MaxAbsDiff(refinedHigh, sampleHigh) < 1e-5, $"high frequencies differ by {Oracles.MaxAbsDiff(refinedHigh, sampleHigh)}");
    }

    [Fact]
    public void Ilvr_leaves_steps_below_its_cutoff_alone()
    {
        using var reference = zeros(1, 3, 8, 8);
        using var sample = ones(1, 3, 8, 8);
        var ilvr = new Ilvr(reference, factor: 2, minTimestep: 100);

        using var refined = ilvr.Refine(sample, 50, NoiseSchedule.Cosine(1000), null);

        Assert.Equal(0, Oracles.MaxAbsDiff(refined, sample));
    }

    [Fact]
    public void Ilvr_rejects_a_reference_not_divisible_by_its_factor()
    {
        var error = Assert.Throws<ArgumentException>(() => new Ilvr(zeros(1, 3, 10, 10), 4));

        Assert.Contains("factor 4", error.Message);
    }

    [Fact]
    public void Noise_augmentation_at_level_zero_keeps_the_image_and_reports_the_level()
    {
        var s = NoiseSchedule.Cosine(1000);
        using var image = rand(2, 3, 8, 8);

        var (noised, levels) = NoiseAugmentation.Fixed(image, s, 0, null);

        Assert.Equal(0, Oracles.MaxAbsDiff(noised, image));
        Assert.Equal(new long[] { 0, 0 }, levels.data<long>().ToArray());
        noised.Dispose();
        levels.Dispose();
    }

    [Fact]
    public void Random_noise_augmentation_draws_levels_within_the_limit_under_a_seed()
    {
        var s = NoiseSchedule.Cosine(1000);
        using var image = zeros(64, 3, 4, 4);

        var (a, levelsA) = NoiseAugmentation.Random(image, s, 250, new Generator(35));
        var (b, levelsB) = NoiseAugmentation.Random(image, s, 250, new Generator(35));

        Assert.InRange(levelsA.max().item<long>(), 0, 250);
        Assert.Equal(levelsA.data<long>().ToArray(), levelsB.data<long>().ToArray());
        Assert.Equal(0, Oracles.MaxAbsDiff(a, b));
        foreach (var t in new[] { a, b, levelsA, levelsB }) t.Dispose();
    }
}
