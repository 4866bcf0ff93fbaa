using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Lab.Studies;

/// Whether SR stages clean the base image's errors or magnify them. The cascade's own 64 px pictures of the prompts
/// (the model folder's text, prior and decoder at default sampling, the prompt's id as seed), those the parser reads
/// right, go through the SR stages of each folder compared; each is measured against the exact render of the
/// prompt's scene (RenderLikeness) at 256 and 1024 px, and the 1024 px picture, averaged back down to 64 px, is read
/// again by the parser: cleaning must not change what the picture shows. A grid shows 1024 px crops side by side.
public sealed class SrCleaningStudy(CascadePipeline cascade, TextWriter log)
{
    const int GridRows = 3;
    const int CropSide = 256;

    public StudyReport Run(IReadOnlyList<BenchPrompt> prompts, IReadOnlyList<(string Name, CascadePipeline Stages)> compared, string commandLine, string output)
    {
        using var _ = no_grad();
        var bases = Bases(prompts);
        var right = Enumerable.Range(0, prompts.Count).Where(i => Reads(prompts[i], bases[i])).ToList();
        log.WriteLine($"study sr-cleaning: {right.Count} of {prompts.Count} pictures read right at 64 px");
        if (right.Count == 0) throw new ArgumentException($"none of the {prompts.Count} prompts' 64 px pictures reads right; there is nothing to upscale");
        var rows = new List<IReadOnlyList<string>> { Row("the base (decoder64)", 64, right.Select(i => RenderLikeness.Measure(bases[i][0], prompts[i].Scene)).ToList(), null) };
        // The grid's rows: the first pictures read right, each the base enlarged, every folder's 1024 px picture, the render.
        var crops = right.Take(GridRows).ToDictionary(i => i, i => new List<Tensor> { Crop(F.interpolate(bases[i], new long[] { 1024, 1024 }, mode: InterpolationMode.Nearest)[0], prompts[i].Scene) });
        foreach (var (name, stages) in compared)
        {
            var at256 = new List<RenderLikeness>();
            var at1024 = new List<RenderLikeness>();
            int stillRight = 0;
            foreach (int i in right)
            {
                using var scope = NewDisposeScope();
                var p = prompts[i];
                ulong seed = (ulong)p.Id;
                using var text = stages.Text.Encode([Caption(p)]);
                var up256 = stages.Sr256.Sample(text, null, bases[i], [seed], SamplingOptions.Default);
                var up1024 = stages.Sr1024.Sample(text, null, up256, [seed], SamplingOptions.Default);
                at256.Add(RenderLikeness.Measure(up256[0], p.Scene));
                at1024.Add(RenderLikeness.Measure(up1024[0], p.Scene));
                if (Reads(p, F.avg_pool2d(up1024, 16))) stillRight++;
                if (crops.TryGetValue(i, out var row)) row.Add(Crop(up1024[0], p.Scene).DetachFromDisposeScope());
            }
            rows.Add(Row(name, 256, at256, null));
            rows.Add(Row(name, 1024, at1024, StudyReport.Percent(stillRight, right.Count)));
            log.WriteLine($"study sr-cleaning: {name} done");
        }
        foreach (var (i, row) in crops) row.Add(Crop(Renderer.RenderTensor(prompts[i].Scene, 1024), prompts[i].Scene));

        var report = new StudyReport("SR stages on the cascade's own pictures", commandLine);
        report.Add(new StudyTable($"The first {prompts.Count} prompts' 64 px pictures, {right.Count} read right, through each folder's SR stages (default sampling)",
            ["SR stages", "size", "background spread (/255)", "border band (/255)", "edge width (x render's)", "outline IoU", "periodic peak (dB)", "1024 px still read right at 64 px"],
            rows,
            "RenderLikeness against the exact render of the prompt's scene at each size: a render scores 0 / 0 / 1.00 / 0.97-1 / 0 dB. "
            + "Still read right: the 1024 px picture averaged down to 64 px, read by the scene parser as the base was."));
        Directory.CreateDirectory(output);
        const string file = "sr-cleaning.png";
        var cells = crops.Values.SelectMany(c => c).ToList();
        using (var picture = Png.Grid(cells, 2 + compared.Count))
            File.WriteAllBytes(Path.Combine(output, file), Png.Encode(picture));
        report.Image(file, $"{CropSide} px crops of the 1024 px pictures at the first object's upper left outline, per row one prompt: the 64 px base enlarged (nearest), "
            + $"then {string.Join(", ", compared.Select(c => c.Name))}, then the exact render.");
        foreach (var cell in cells) cell.Dispose();
        foreach (var b in bases) b.Dispose();
        return report;
    }

    /// The prompts' 64 px pictures, [1, 3, 64, 64] each, drawn in batches as a request draws them.
    List<Tensor> Bases(IReadOnlyList<BenchPrompt> prompts)
    {
        var pictures = new List<Tensor>();
        foreach (var batch in prompts.Chunk(10))
        {
            using var scope = NewDisposeScope();
            var seeds = batch.Select(p => (ulong)p.Id).ToList();
            var images = cascade.SampleBases(batch.Select(Caption).ToList(), seeds, SamplingOptions.Default, SamplingOptions.Default);
            pictures.AddRange(images.split(1).Select(i => i.DetachFromDisposeScope()));
        }
        return pictures;
    }

    string Caption(BenchPrompt p) => ShapeBenchRunner.Caption(cascade, p);

    static bool Reads(BenchPrompt p, Tensor image64) => CaptionScore.Of(p.Caption, SceneParser.Parse(image64)).FullyCorrect;

    static IReadOnlyList<string> Row(string name, int size, IReadOnlyList<RenderLikeness> measured, string? stillRight) =>
    [
        name, $"{size} px", $"{measured.Average(m => m.Spread):F2}", $"{measured.Average(m => m.BorderBand):F2}", $"{measured.Average(m => m.EdgeWidth):F2}",
        $"{measured.Average(m => m.OutlineIou):F3}", $"{measured.Average(m => m.PeriodicPeak):F1}", stillRight ?? "-",
    ];

    /// A CropSide square of a [3, 1024, 1024] picture centred on the first object's upper left outline, where object,
    /// edge and background all show (kept inside the picture).
    static Tensor Crop(Tensor picture, Scene scene)
    {
        int size = (int)picture.shape[2];
        var (cx, cy) = (0.5, 0.5);
        if (scene.Objects.Count > 0)
        {
            var (x, y) = Geometry.Centre(scene.Objects[0].Position);
            double reach = 0.5 * Geometry.Radius(scene.Objects[0].Size);
            (cx, cy) = (x - reach, y - reach);
        }
        int left = Math.Clamp((int)(cx * size) - CropSide / 2, 0, size - CropSide), top = Math.Clamp((int)(cy * size) - CropSide / 2, 0, size - CropSide);
        return picture[.., top..(top + CropSide), left..(left + CropSide)].cpu().clone();
    }
}
