using DiffusionCluster.Training.Evaluation;

namespace DiffusionCluster.Training.Tests;

public sealed class ShapeBenchReportTests
{
    [Fact]
    public void The_denoising_table_has_a_column_per_timestep_then_the_mean_of_the_pure_noise_draws_then_bicubic()
    {
        var sr256 = new SuperResolutionDenoising("sr256", 6, [new TimestepPsnr(999, 37.84), new TimestepPsnr(500, 41.791)], 999, 39.25, 36.19);

        var rows = ShapeBenchReport.DenoisingRows([sr256]).ToList();

        Assert.Equal("| SR stage | images | t = 999 | t = 500 | t = 999, mean of 4 draws | bicubic |", rows[0]);
        Assert.Equal("|---|---:|---:|---:|---:|---:|", rows[1]);
        Assert.Equal("| sr256 | 6 | 37.84 dB | 41.79 dB | 39.25 dB | 36.19 dB |", rows[2]);
    }
}
