using DiffusionCluster.Lab.Studies;
using DiffusionCluster.Models.Cascade;
using static TorchSharp.torch;

namespace DiffusionCluster.Lab.Tests;

/// The window study's seam measure needs no render: the step between neighbouring pixels across window edges against
/// the step across the network's other grid lines.
public sealed class WindowStudyTests
{
    static readonly WindowTiling NoOverlap = new(16, 0);

    [Fact]
    public void A_picture_whose_windows_disagree_steps_at_their_edges()
    {
        // 64 px in 16 px windows, each window a different flat grey, plus a gentle ramp everywhere.
        var levels = arange(64, float32).div(16).floor().view(1, 1, 1, 64) * 0.1 + arange(64, float32).view(1, 1, 64, 1) * 0.001;
        var image = levels.expand(1, 3, 64, 64);

        var (across, elsewhere) = WindowStudy.Steps(image, NoOverlap, grid: 8);

        // Across the three inner edges (16, 32, 48), the pairs along rows step 0.1 and as many along columns 0.001;
        // across the other 8 px grid lines (8, 24, 40, 56) the pairs along rows do not step and those along columns do.
        Assert.Equal((0.1 + 0.001) / 2, across, 5);
        Assert.Equal(0.001 / 2, elsewhere, 5);
    }

    [Fact]
    public void A_picture_that_ignores_the_windows_steps_alike_everywhere()
    {
        var image = arange(64, float32).view(1, 1, 1, 64).expand(1, 3, 64, 64) * 0.01;

        var (across, elsewhere) = WindowStudy.Steps(image, NoOverlap, grid: 8);

        Assert.Equal(across, elsewhere, 5);
        Assert.Equal(0.005, across, 5); // rows step 0.01, columns 0: as many pairs each way
    }
}
