using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Training.Evaluation;
using DiffusionCluster.Lab.Studies;
using static TorchSharp.torch;

namespace DiffusionCluster.Lab.Tests;

/// `eval --decoder-denoising` on the bundled decoder: near the clean end its estimate is the render (every shape
/// read back), and it degrades as the noise rises, since less of the picture is left to recover.
public class DecoderDenoisingTests
{
    [Fact]
    public void The_estimate_is_the_render_at_low_noise_and_degrades_as_noise_rises()
    {
        string model = Path.Combine(DiffusionCluster.Tests.Shared.RepositoryRoot.Path, "models", "shapes-cascade");
        var pipeline = new CascadePipeline(model, CPU);
        using var clipImage = CascadeFolder.LoadImageEncoder(model, device: CPU);
        var prompts = BenchPrompt.DevSet(singles: 4, pairs: 0, triples: 0).ToList();

        var rows = new DecoderDenoising(pipeline, clipImage).Measure(prompts, [999, 500, 10]);

        Assert.Equal([999, 500, 10], rows.Select(r => r.Timestep));
        Assert.Equal(1.0, rows[2].ShapeFound);
        Assert.Equal(1.0, rows[2].PositionFound);
        Assert.True(rows[2].Psnr > 35, $"t = 10: {rows[2].Psnr:F2} dB");
        Assert.True(rows[0].Psnr < rows[1].Psnr && rows[1].Psnr < rows[2].Psnr, string.Join(", ", rows.Select(r => $"{r.Psnr:F2}")));
        Assert.True(rows[0].ObjectPsnr < rows[2].ObjectPsnr);
        Assert.Equal(5, DecoderDenoising.Rows(rows).Count());
    }
}
