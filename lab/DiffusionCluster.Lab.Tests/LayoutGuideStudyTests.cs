using DiffusionCluster.Lab.Studies;
using Guide = DiffusionCluster.Lab.Studies.LayoutGuideStudy.Guide;
using Row = DiffusionCluster.Lab.Studies.LayoutGuideStudy.Row;

namespace DiffusionCluster.Lab.Tests;

/// The table of `study layout-guide`, checked on counts whose answer is known.
public class LayoutGuideStudyTests
{
    [Fact]
    public void Each_guide_gets_a_row_with_its_share_and_shares_of_prompts_and_objects()
    {
        var rows = new[]
        {
            new Row(Guide.None, 0, Prompts: 4, FullyCorrect: 1, Objects: 8, Shape: 4, Position: 2, Count: 3),
            new Row(Guide.LayoutModel, 0.7, 4, 3, 8, 6, 7, 4),
            new Row(Guide.ExactRender, 0.7, 4, 4, 8, 8, 8, 4),
        };

        var table = LayoutGuideStudy.Tabulate(rows);

        Assert.Equal(["guide", "share held", "fully correct", "shape found", "position found", "count correct"], table.Columns);
        Assert.Equal(["none", "-", "25.0% (1/4)", "50.0% (4/8)", "25.0% (2/8)", "75.0% (3/4)"], table.Rows[0]);
        Assert.Equal(["layout model", "0.7", "75.0% (3/4)", "75.0% (6/8)", "87.5% (7/8)", "100.0% (4/4)"], table.Rows[1]);
        Assert.Equal(["exact render (oracle)", "0.7", "100.0% (4/4)", "100.0% (8/8)", "100.0% (8/8)", "100.0% (4/4)"], table.Rows[2]);
        Assert.Contains("4 prompts", table.Title);
    }
}
