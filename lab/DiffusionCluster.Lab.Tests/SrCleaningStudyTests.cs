using System.Text.Json;
using DiffusionCluster.Lab.Studies;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;

namespace DiffusionCluster.Lab.Tests;

/// `study sr-cleaning` on the bundled cascade: the base's row, then each compared folder's 256 and 1024 px rows on the
/// same pictures (the same folder twice gives the same figures), and a grid of crops.
public sealed class SrCleaningStudyTests : IDisposable
{
    readonly string _output = Directory.CreateTempSubdirectory("dc-sr-cleaning-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Fact]
    public void Each_folder_upscales_the_same_pictures_and_the_grid_holds_base_folders_and_render()
    {
        var folder = Path.Combine(DiffusionCluster.Tests.Shared.RepositoryRoot.Path, "models", "shapes-cascade");
        var cascade = new CascadePipeline(folder, CPU);
        var prompts = BenchPrompt.Read(Path.Combine(DiffusionCluster.Tests.Shared.RepositoryRoot.Path, "shapebench", "dev.jsonl")).Take(2).ToList();

        var report = new SrCleaningStudy(cascade, TextWriter.Null).Run(prompts, [("first", cascade), ("second", new CascadePipeline(folder, CPU))], "test", _output);
        report.Write(_output, "sr-cleaning");

        var rows = JsonDocument.Parse(File.ReadAllText(Path.Combine(_output, "sr-cleaning.json"))).RootElement.GetProperty("Tables")[0].GetProperty("Rows")
            .EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetString()!).ToArray()).ToList();
        Assert.Equal(["the base (decoder64)", "first", "first", "second", "second"], rows.Select(r => r[0]));
        Assert.Equal(["64 px", "256 px", "1024 px", "256 px", "1024 px"], rows.Select(r => r[1]));
        Assert.Equal(rows[1][2..], rows[3][2..]);
        Assert.Equal(rows[2][2..], rows[4][2..]);
        using var grid = Models.Imaging.Png.Decode(File.ReadAllBytes(Path.Combine(_output, "sr-cleaning.png")));
        Assert.Equal(4 * 256, grid.shape[2]);
    }
}
