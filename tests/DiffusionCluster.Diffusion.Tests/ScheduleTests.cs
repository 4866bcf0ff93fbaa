using DiffusionCluster.Diffusion;

namespace DiffusionCluster.Diffusion.Tests;

public class ScheduleTests
{
    [Fact]
    public void Cosine_schedule_matches_its_closed_form()
    {
        var s = NoiseSchedule.Cosine(1000);
        double F(double u) => Math.Pow(Math.Cos((u + 0.008) / 1.008 * Math.PI / 2), 2);

        Assert.Equal(F(1 / 1000.0) / F(0), s.AlphaBar(0), 10);
        Assert.Equal(F(500 / 1000.0) / F(0), s.AlphaBar(499), 6);
    }

    [Fact]
    public void Linear_schedule_spans_ddpm_betas_whatever_the_length()
    {
        var full = NoiseSchedule.Linear(1000);
        var short_ = NoiseSchedule.Linear(100);

        Assert.Equal(1 - 1e-4, full.AlphaBar(0), 12);
        Assert.Equal(1 - 1e-3, short_.AlphaBar(0), 12);
        Assert.InRange(full.AlphaBar(999), 0, 1e-4);
    }

    [Fact]
    public void Zero_terminal_snr_ends_at_pure_noise_and_keeps_the_first_step()
    {
        var original = NoiseSchedule.Cosine(1000);
        var rescaled = original.WithZeroTerminalSnr();

        Assert.Equal(0, rescaled.AlphaBar(999), 12);
        Assert.Equal(original.AlphaBar(0), rescaled.AlphaBar(0), 12);
        Assert.Equal(1, rescaled.AlphaBar(-1));
    }

    [Fact]
    public void A_schedule_rejects_increasing_alpha_bar()
    {
        var error = Assert.Throws<ArgumentException>(() => new NoiseSchedule(new[] { 0.5, 0.9 }));

        Assert.Contains("alphas_cumprod[1]", error.Message);
    }
}

public class RespacingTests
{
    [Fact]
    public void Even_spacing_includes_both_ends()
    {
        var steps = Respacing.Parse("50", 1000);

        Assert.Equal(50, steps.Length);
        Assert.Equal(0, steps[0]);
        Assert.Equal(999, steps[^1]);
        Assert.Equal(steps.Distinct().Count(), steps.Length);
    }

    [Fact]
    public void Ddim_spacing_uses_an_integer_stride()
    {
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i * 20), Respacing.Parse("ddim50", 1000));
    }

    [Fact]
    public void Section_spacing_takes_the_given_counts_per_section()
    {
        var steps = Respacing.Parse("10,10,7", 999);

        Assert.Equal(27, steps.Length);
        Assert.Equal(10, steps.Count(t => t < 333));
        Assert.Equal(7, steps.Count(t => t >= 666));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("ddimx")]
    [InlineData("1001")]
    [InlineData("10,,5")]
    public void Bad_specs_name_the_problem(string spec)
    {
        var error = Record.Exception(() => Respacing.Parse(spec, 1000));

        Assert.IsAssignableFrom<ArgumentException>(error);
        Assert.False(string.IsNullOrWhiteSpace(error!.Message));
    }
}
