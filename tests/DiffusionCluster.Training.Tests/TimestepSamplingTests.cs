using DiffusionCluster.Diffusion;
using DiffusionCluster.Training.Trainers;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

public sealed class TimestepSamplingTests
{
    static readonly NoiseSchedule Schedule = NoiseSchedule.Cosine(1000).WithZeroTerminalSnr();

    static long[] Draw(double terminalFraction, int batch = 4000)
    {
        using var generator = new Generator(3);
        using var t = TrainingContext.Timesteps(batch, Schedule, generator, CPU, terminalFraction);
        return t.data<long>().ToArray();
    }

    [Fact]
    public void Without_a_terminal_fraction_timesteps_are_uniform_and_drawn_as_before()
    {
        using var generator = new Generator(3);
        using var uniform = randint(0, 1000, new long[] { 4000 }, dtype: int64, generator: generator);
        var t = Draw(0);

        Assert.Equal(uniform.data<long>().ToArray(), t);
        Assert.InRange(t.Count(x => x >= 500) / 4000.0, 0.45, 0.55);
    }

    [Fact]
    public void A_terminal_fraction_puts_that_share_of_rows_at_the_last_timestep()
    {
        var quarter = Draw(0.25);

        Assert.InRange(quarter.Count(x => x == 999) / 4000.0, 0.22, 0.28);
        Assert.InRange(quarter.Count(x => x < 500) / 4000.0, 0.33, 0.42); // the other rows stay uniform
        Assert.All(Draw(1, 64), x => Assert.Equal(999, x));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    public void A_terminal_fraction_outside_0_to_1_is_refused(double fraction)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Draw(fraction, 4));

        Assert.Contains("allowed 0 to 1", error.Message);
    }
}
