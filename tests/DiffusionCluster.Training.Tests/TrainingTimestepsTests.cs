using DiffusionCluster.Diffusion;
using DiffusionCluster.Training.Stages;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

/// The timesteps a denoising stage trains on: uniform, or with a share of rows from the noisiest part.
public class TrainingTimestepsTests
{
    static readonly NoiseSchedule Schedule = NoiseSchedule.Cosine(1000);

    [Fact]
    public void Without_a_high_noise_share_timesteps_are_uniform_and_draw_what_they_always_drew()
    {
        using var drawn = StageContext.Timesteps(20_000, Schedule, new Generator(7), CPU);
        using var expected = randint(0, 1000, new long[] { 20_000 }, dtype: int64, generator: new Generator(7));

        Assert.Equal(expected.data<long>().ToArray(), drawn.data<long>().ToArray());
        Assert.InRange(ShareAtOrAbove(drawn, 700), 0.28, 0.32);
    }

    [Fact]
    public void A_high_noise_share_moves_that_share_of_rows_into_the_noisiest_part()
    {
        // Half the rows from [700, 1000), half uniform (30% of which also land there): 0.5 + 0.5 x 0.3 = 65%.
        using var drawn = StageContext.Timesteps(20_000, Schedule, new Generator(7), CPU, highNoiseShare: 0.5, highNoiseFrom: 0.7);

        Assert.InRange(ShareAtOrAbove(drawn, 700), 0.63, 0.67);
        Assert.Equal(0, drawn.min().item<long>());
        Assert.Equal(999, drawn.max().item<long>());
    }

    static double ShareAtOrAbove(Tensor timesteps, long from) => (timesteps >= from).to(float64).mean().item<double>();
}
