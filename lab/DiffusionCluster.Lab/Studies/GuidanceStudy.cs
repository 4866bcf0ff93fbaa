using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;

namespace DiffusionCluster.Lab.Studies;

/// The guidance comparisons the seed review reports, on ShapeBench prompts with the bundled cascade:
/// classifier-free vs CLIP guidance (GLIDE), static vs dynamic thresholding across guidance weights (Imagen),
/// and the noise-augmentation level of the SR stage's input.
public sealed class GuidanceStudy(ImageOperations operations, ImageEncoder clipImage, TextWriter log)
{
    /// One setting's figures: parser accuracy, CLIP score with the clean CLIP, and saturation (share of pixels
    /// at the ends of the range, |x| > 0.98), which high guidance without thresholding drives up.
    public sealed record Point(string Setting, double Weight, double FullyCorrect, double Colour, double Shape, double ClipScore, double Saturation);

    public IReadOnlyList<Point> Measure(IReadOnlyList<BenchPrompt> prompts, string setting, double weight, SamplingOptions decoder, Func<string, ClipGuidance?>? clip = null)
    {
        using var _ = no_grad();
        int fully = 0, colour = 0, shape = 0, objects = 0;
        double clipScore = 0, saturation = 0;
        foreach (var p in prompts)
        {
            using var scope = NewDisposeScope();
            var decode = new DecodeOptions { Clip = clip?.Invoke(p.Prompt) };
            var image = operations.Generate(p.Prompt, [(ulong)p.Id], decoder, decode);
            var score = CaptionScore.Of(p.Caption, SceneParser.Parse(image[0]));
            fully += score.FullyCorrect ? 1 : 0;
            colour += score.ColourFound;
            shape += score.ShapeCorrect;
            objects += score.Objects;
            var text = operations.Cascade.Text.Encode([p.Prompt]);
            clipScore += 100 * ClipSpace.Cosine(clipImage.forward(image), text.Pooled).item<float>();
            saturation += (image.abs() > 0.98).to(float32).mean().item<float>();
        }
        int n = prompts.Count;
        var point = new Point(setting, weight, (double)fully / n, (double)colour / objects, (double)shape / objects, clipScore / n, saturation / n);
        log.WriteLine($"study guidance: {setting} {weight}: fully {point.FullyCorrect:P0}, colour {point.Colour:P0}, shape {point.Shape:P0}, CLIP {point.ClipScore:F1}, saturated {point.Saturation:P1}");
        return [point];
    }

    /// GLIDE's comparison: classifier-free guidance at weights w vs CLIP guidance at scales s on the
    /// conditional model (w = 1), both with the same sampler and thresholding.
    public (StudyTable Table, string Plot, List<Point> Points) ClassifierFreeVsClip(IReadOnlyList<BenchPrompt> prompts, IReadOnlyList<double> weights,
        IReadOnlyList<double> clipScales, int steps)
    {
        var points = new List<Point>();
        foreach (var w in weights)
            points.AddRange(Measure(prompts, "classifier-free", w, new SamplingOptions(steps, w, "dynamic:0.95:1.5", Solver: SamplingOptions.Ddim)));
        foreach (var s in clipScales)
            points.AddRange(Measure(prompts, "CLIP", s, new SamplingOptions(steps, 1, "dynamic:0.95:1.5", Solver: SamplingOptions.Ddim), p => operations.ClipGuidance(p, s)));
        var table = new StudyTable("Classifier-free guidance vs CLIP guidance (64 px decoder, prior as bundled)",
            ["guidance", "weight / scale", .. PointColumns], PointRows(points),
            "CLIP guidance follows the gradient of the noise-aware CLIP image tower toward the caption's CLIP text embedding; the CLIP score is measured with the clean CLIP, which CLIP guidance can partly game (GLIDE's caveat).");
        var cfg = points.Where(p => p.Setting == "classifier-free").ToList();
        var clip = points.Where(p => p.Setting == "CLIP").ToList();
        // GLIDE compared trade-off curves; here each point is one weight or scale, from weakest to strongest.
        var plot = SvgPlot.Lines("Colour found vs CLIP score, one point per guidance setting", "CLIP score (clean CLIP)", "colour found (%)",
            [("classifier-free", cfg.Select(p => p.ClipScore).ToList(), cfg.Select(p => 100 * p.Colour).ToList()),
             ("CLIP guidance", clip.Select(p => p.ClipScore).ToList(), clip.Select(p => 100 * p.Colour).ToList())]);
        return (table, plot, points);
    }

    static readonly string[] PointColumns = ["fully correct", "colour found", "shape found", "CLIP score", "saturated pixels"];

    static List<IReadOnlyList<string>> PointRows(IEnumerable<Point> points) =>
        points.Select(p => (IReadOnlyList<string>)[p.Setting, $"{p.Weight:G}", StudyReport.Percent(p.FullyCorrect), StudyReport.Percent(p.Colour),
            StudyReport.Percent(p.Shape), $"{p.ClipScore:F1}", StudyReport.Percent(p.Saturation)]).ToList();

    /// How well the noise-aware CLIP, whose gradient CLIP guidance follows, still matches captions to their scenes
    /// as the decoder's noise grows, beside the clean CLIP on the clean renders.
    public StudyTable NoisyClipRetrieval(IReadOnlyList<BenchPrompt> prompts, ImageEncoder noisyEncoder, IReadOnlyList<int> timesteps)
    {
        var schedule = operations.Cascade.Decoder.Schedule;
        // The clean tower on clean renders first, then the noise-aware one at each timestep, in one pass.
        var top1 = RetrievalTop1(prompts, [(clipImage, null), .. timesteps.Select(t => (noisyEncoder, (int?)t))]);
        var rows = new List<IReadOnlyList<string>> { (IReadOnlyList<string>)["clean CLIP, clean renders", StudyReport.Percent(top1[0])] };
        for (int i = 0; i < timesteps.Count; i++)
        {
            rows.Add([$"noise-aware CLIP, t = {timesteps[i]} (SNR {schedule.Snr(timesteps[i]):G3})", StudyReport.Percent(top1[i + 1])]);
            log.WriteLine($"study guidance: noise-aware CLIP retrieval at t = {timesteps[i]}: {top1[i + 1]:P1}");
        }
        return new StudyTable($"Noise-aware CLIP: caption -> image retrieval top-1 among {prompts.Count} renders noised to step t", ["image tower, input", "top-1"], rows,
            "CLIP guidance can only steer a sample where this tower still tells the captions apart.");
    }

    /// Caption -> image retrieval top-1 among the prompts' exact 64 px renders, per timestep: noised to step t of the
    /// decoder's schedule (one fixed noise draw) for a time-conditioned tower, clean where t is null.
    public IReadOnlyList<double> RetrievalTop1(IReadOnlyList<BenchPrompt> prompts, ImageEncoder encoder, IReadOnlyList<int?> timesteps) =>
        RetrievalTop1(prompts, timesteps.Select(t => (encoder, t)).ToList());

    /// The same for several (image tower, timestep) pairs, rendering and encoding the prompts once for all of them.
    public IReadOnlyList<double> RetrievalTop1(IReadOnlyList<BenchPrompt> prompts, IReadOnlyList<(ImageEncoder Encoder, int? Step)> towers)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var device = operations.Cascade.Device;
        var schedule = operations.Cascade.Decoder.Schedule;
        var renders = Renderer.RenderBatch(prompts.Select(p => p.Scene).ToList(), 64).to(device);
        var noise = randn(renders.shape, generator: new TorchSharp.torch.Generator(7)).to(device);
        var text = operations.Cascade.Text.Encode(prompts.Select(p => p.Prompt).ToList()).Pooled;
        return towers.Select(tower => ClipSpace.RetrievalTop1(text, tower.Step is int step
            ? tower.Encoder.forward(schedule.AddNoise(renders, noise, step), full(new long[] { prompts.Count }, step, int64, device))
            : tower.Encoder.forward(renders))).ToList();
    }

    /// Imagen's comparison: no, static and dynamic thresholding across classifier-free guidance weights.
    public (StudyTable Table, string Plot, List<Point> Points) Thresholding(IReadOnlyList<BenchPrompt> prompts, IReadOnlyList<double> weights, int steps)
    {
        var methods = new[] { "none", "static", "dynamic:0.95:1.5" };
        var points = new List<Point>();
        foreach (var method in methods)
            foreach (var w in weights)
                points.AddRange(Measure(prompts, method, w, new SamplingOptions(steps, w, method, Solver: SamplingOptions.Ddim)));
        var table = new StudyTable("Thresholding across guidance weights (64 px decoder)",
            ["thresholding", "guidance weight", .. PointColumns], PointRows(points),
            "Saturated pixels: share of pixel values with |x| > 0.98 after the final clamp (renders of these scenes have flat colours inside the range).");
        var plot = SvgPlot.Lines("Saturated pixels vs guidance weight", "guidance weight", "saturated pixels (%)", weights,
            methods.Select(m => (m, (IReadOnlyList<double>)points.Where(p => p.Setting == m).Select(p => 100 * p.Saturation).ToList())).ToList());
        return (table, plot, points);
    }

    /// The SR stage's input noise-augmentation level at sampling: PSNR against the exact 256 px render, from
    /// the exact 64 px render and from a degraded one (blurred to 32 px and back, like an imperfect base image).
    public (StudyTable Table, string Plot) SuperResolutionAugmentation(IReadOnlyList<BenchPrompt> prompts, IReadOnlyList<int> levels, int steps)
    {
        using var _ = no_grad();
        var device = operations.Cascade.Device;
        var sr = operations.Cascade.Sr256;
        var rows = new List<IReadOnlyList<string>>();
        var clean = new List<double>();
        var degraded = new List<double>();
        foreach (var level in levels)
        {
            double psnrClean = 0, psnrDegraded = 0;
            foreach (var p in prompts)
            {
                using var scope = NewDisposeScope();
                var text = operations.Cascade.Text.Encode([p.Prompt]);
                var low = Renderer.RenderTensor(p.Scene, 64).unsqueeze(0).to(device);
                var blurred = nn.functional.interpolate(nn.functional.avg_pool2d(low, 2), new long[] { 64, 64 }, mode: InterpolationMode.Bilinear, align_corners: false);
                var truth = Renderer.RenderTensor(p.Scene, 256).unsqueeze(0).to(device);
                var sampling = new SamplingOptions(steps, 1, "static", AugmentationLevel: level);
                psnrClean += ImageQuality.Psnr(sr.Sample(text, null, low, [(ulong)p.Id], sampling), truth);
                psnrDegraded += ImageQuality.Psnr(sr.Sample(text, null, blurred, [(ulong)p.Id], sampling), truth);
            }
            clean.Add(psnrClean / prompts.Count);
            degraded.Add(psnrDegraded / prompts.Count);
            rows.Add([$"{level}", $"{clean[^1]:F2} dB", $"{degraded[^1]:F2} dB"]);
            log.WriteLine($"study sr-aug: level {level}: {clean[^1]:F2} dB clean, {degraded[^1]:F2} dB degraded");
        }
        var bicubic = prompts.Average(p =>
        {
            using var scope = NewDisposeScope();
            var low = Renderer.RenderTensor(p.Scene, 64).unsqueeze(0).to(device);
            return ImageQuality.Psnr(Upsampling.Bicubic(low, 256), Renderer.RenderTensor(p.Scene, 256).unsqueeze(0).to(device));
        });
        var table = new StudyTable($"SR 64->256: noise-augmentation level of the input at sampling ({steps} steps)",
            ["augmentation level (of 1000)", "PSNR from the exact 64 px render", "PSNR from a degraded 64 px input"], rows,
            $"Bicubic upsampling of the exact 64 px render: {bicubic:F2} dB. The degraded input is the render average-pooled to 32 px and upsampled back.");
        var plot = SvgPlot.Lines("SR 256 PSNR vs input augmentation level", "augmentation level", "PSNR (dB)", levels.Select(l => (double)l).ToList(),
            [("exact input", clean), ("degraded input", degraded), ("bicubic (exact input)", levels.Select(_ => bicubic).ToList())]);
        return (table, plot);
    }
}
