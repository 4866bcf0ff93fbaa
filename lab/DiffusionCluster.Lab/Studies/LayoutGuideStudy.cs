using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Lab.Studies;

/// Does holding the decoder's low frequencies to a picture of the layout (ILVR) place the objects? Each prompt is
/// drawn once per setting (prior, then decoder, the prompt's seed, so the draws differ only in the guide): without a
/// guide; guided by the layout model's picture of the caption (what `generate` does); guided by the exact render
/// average-pooled the same way (the best any layout model could give). The share is how much of the trajectory, from
/// pure noise, the guide holds. The last table says how close the layout model's pictures are to the renders', and the
/// grid shows the first prompts: the layout model's picture, the unguided sample, the sample guided by it at the
/// largest share, the render.
public sealed class LayoutGuideStudy(CascadePipeline pipeline, TextWriter log)
{
    public enum Guide { None, LayoutModel, ExactRender }

    public sealed record Row(Guide Guide, double Share, int Prompts, int FullyCorrect, int Objects, int Shape, int Position, int Count);

    const int GridRows = 8;

    public StudyReport Run(IReadOnlyList<BenchPrompt> prompts, IReadOnlyList<double> shares, GenerationSpec sampling, string command, string outputFolder, int batchSize = 10)
    {
        if (!pipeline.Decoder.HasLayout) throw new ArgumentException($"{pipeline.ModelFolder} has no layout model; train one with `train layout`");
        using var _ = no_grad();
        var settings = new List<(Guide, double)> { (Guide.None, 0) };
        settings.AddRange(shares.Select(s => (Guide.LayoutModel, s)));
        settings.AddRange(shares.Select(s => (Guide.ExactRender, s)));
        var firstImages = new Dictionary<(Guide, double), Tensor>();
        var rows = settings.Select(s => Measure(prompts, s.Item1, s.Item2, sampling, batchSize, firstImages)).ToList();

        var report = new StudyReport("Layout guidance: ILVR toward a picture of the layout", command);
        report.Add(Tabulate(rows));
        report.Add(Fidelity(prompts));
        report.Figure("rows", rows);
        WriteGrid(prompts.Take(GridRows).ToList(), firstImages[(Guide.None, 0)], firstImages[(Guide.LayoutModel, shares.Max())], outputFolder);
        report.Image("layout-guide.png", $"Per prompt (the first {GridRows}): the layout model's 16 px picture, the unguided sample, the sample held to the picture for {shares.Max():F1} of the trajectory, the render.");
        foreach (var images in firstImages.Values) images.Dispose();
        return report;
    }

    /// firstImages gets the setting's images of the first batch.
    Row Measure(IReadOnlyList<BenchPrompt> prompts, Guide guide, double share, GenerationSpec sampling, int batchSize, Dictionary<(Guide, double), Tensor> firstImages)
    {
        int correct = 0, objects = 0, shape = 0, position = 0, count = 0;
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = prompts.Skip(start).Take(batchSize).ToList();
            using var text = pipeline.Text.Encode(batch.Select(p => p.Prompt).ToList());
            var seeds = batch.Select(p => (ulong)p.Id).ToList();
            var embedding = pipeline.Prior.Sample(text, seeds, sampling.Prior);
            var decoder = sampling.Decoder64 with { Layout = guide == Guide.LayoutModel ? share : 0 };
            var decode = guide == Guide.ExactRender
                ? new DecodeOptions { Guide = new IlvrGuide(Renderer.RenderBatch(batch.Select(p => p.Scene).ToList(), pipeline.Decoder.OutputSize), pipeline.Decoder.LayoutFactor, 1 - share) }
                : null;
            var images = pipeline.Decoder.Sample(text, embedding, null, seeds, decoder, decode: decode);
            if (start == 0) firstImages[(guide, share)] = images.detach().clone().DetachFromDisposeScope();
            for (int i = 0; i < batch.Count; i++)
            {
                var score = CaptionScore.Of(batch[i].Caption, SceneParser.Parse(images[i]));
                if (score.FullyCorrect) correct++;
                if (score.CountCorrect) count++;
                objects += score.Objects;
                shape += score.ShapeCorrect;
                position += score.PositionCorrect;
            }
        }
        log.WriteLine($"layout guide: {guide} share {share}: {correct}/{prompts.Count} fully correct");
        return new Row(guide, share, prompts.Count, correct, objects, shape, position, count);
    }

    public static StudyTable Tabulate(IReadOnlyList<Row> rows)
    {
        string Name(Row r) => r.Guide switch { Guide.None => "none", Guide.LayoutModel => "layout model", _ => "exact render (oracle)" };
        return new StudyTable($"Fully correct at 64 px ({rows[0].Prompts} prompts, one draw each)",
            ["guide", "share held", "fully correct", "shape found", "position found", "count correct"],
            rows.Select(r => (IReadOnlyList<string>)[Name(r), r.Guide == Guide.None ? "-" : r.Share.ToString("F1"), StudyReport.Percent(r.FullyCorrect, r.Prompts),
                StudyReport.Percent(r.Shape, r.Objects), StudyReport.Percent(r.Position, r.Objects), StudyReport.Percent(r.Count, r.Prompts)]).ToList(),
            "ILVR at factor 4: the 64 px sample's 16 px average-pooled content is replaced by the guide's, noised to the step's level, while t >= (1 - share) T.");
    }

    void WriteGrid(IReadOnlyList<BenchPrompt> prompts, Tensor unguided, Tensor guided, string outputFolder)
    {
        using var scope = NewDisposeScope();
        using var text = pipeline.Text.Encode(prompts.Select(p => p.Prompt).ToList());
        var pictures = F.interpolate(pipeline.Decoder.Layout(text), new long[] { pipeline.Decoder.OutputSize, pipeline.Decoder.OutputSize }, mode: InterpolationMode.Nearest);
        var renders = Renderer.RenderBatch(prompts.Select(p => p.Scene).ToList(), pipeline.Decoder.OutputSize);
        var cells = Enumerable.Range(0, prompts.Count).SelectMany(i => new[] { pictures[i], unguided[i], guided[i], renders[i] })
            .Select(g => F.interpolate(g.unsqueeze(0), new long[] { 128, 128 }, mode: InterpolationMode.Nearest)[0]).ToList();
        Directory.CreateDirectory(outputFolder);
        using var grid = Png.Grid(cells, 4);
        File.WriteAllBytes(Path.Combine(outputFolder, "layout-guide.png"), Png.Encode(grid));
    }

    /// PSNR at 16 px of the layout model's pictures against the renders average-pooled to 16 px, beside the renders'
    /// mean colour (a picture of the background alone scores near it).
    StudyTable Fidelity(IReadOnlyList<BenchPrompt> prompts)
    {
        using var scope = NewDisposeScope();
        using var text = pipeline.Text.Encode(prompts.Select(p => p.Prompt).ToList());
        var pictures = pipeline.Decoder.Layout(text);
        var truth = pipeline.Decoder.LayoutTarget(Renderer.RenderBatch(prompts.Select(p => p.Scene).ToList(), pipeline.Decoder.OutputSize));
        var flat = truth.mean(new long[] { 2, 3 }, keepdim: true).expand_as(truth);
        double model = Enumerable.Range(0, prompts.Count).Average(i => ImageQuality.Psnr(pictures[i], truth[i]));
        double background = Enumerable.Range(0, prompts.Count).Average(i => ImageQuality.Psnr(flat[i], truth[i]));
        return new StudyTable("The layout model's pictures against the renders, at 16 px", ["picture", "mean PSNR"],
            [["layout model", $"{model:F2} dB"], ["each render's mean colour", $"{background:F2} dB"]]);
    }
}
