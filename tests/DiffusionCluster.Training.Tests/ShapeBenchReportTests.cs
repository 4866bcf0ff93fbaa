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

    [Fact]
    public void The_likeness_table_has_a_row_per_size_with_the_means_of_its_images()
    {
        var at1024 = LikenessAtSize.Of(1024, [new RenderLikeness(3, 1, 4, 0.9, 20), new RenderLikeness(5, 3, 6, 0.7, 30)]);
        var report = new ShapeBenchReport("dev.jsonl", "diffusion prior", 0, new Dictionary<string, Accuracy>(), ShapeBenchReport.Summarise([]), 0, 0, 0, 0, [], 0, [],
            [at1024]);

        var markdown = report.ToMarkdown("grid.png");

        Assert.Equal((1024, 2, 4.0, 2.0, 5.0, 0.8, 25.0), (at1024.Size, at1024.Images, at1024.Spread, at1024.BorderBand, at1024.EdgeWidth, at1024.OutlineIou, at1024.PeriodicPeak));
        Assert.Contains("| 1024 px | 2 | 4.00 / 255 | 2.00 / 255 | 5.00 | 0.800 | 25.0 dB |", markdown);
    }
}
