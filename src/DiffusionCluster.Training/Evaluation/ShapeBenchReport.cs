namespace DiffusionCluster.Training.Evaluation;

public sealed record PromptResult(int Id, string Prompt, int Objects, bool FullyCorrect, int ColourFound, int ShapeCorrect, int SizeCorrect,
    int PositionCorrect, bool CountCorrect, double ClipScore);

public sealed record Accuracy(int Prompts, double FullyCorrect, double Colour, double Shape, double Size, double Position, double Count);

public sealed record SuperResolutionQuality(string Stage, int Images, double Psnr, double Ssim, double BicubicPsnr, double BicubicSsim);

public sealed record TimestepPsnr(int Timestep, double Psnr);

/// RenderLikeness's means over the generated images at one size (the cascade's own 64 px base, then its SR stages).
public sealed record LikenessAtSize(int Size, int Images, double Spread, double BorderBand, double EdgeWidth, double OutlineIou, double PeriodicPeak)
{
    public static LikenessAtSize Of(int size, IReadOnlyList<RenderLikeness> measured) => new(size, measured.Count,
        Mean(measured, m => m.Spread), Mean(measured, m => m.BorderBand), Mean(measured, m => m.EdgeWidth), Mean(measured, m => m.OutlineIou),
        Mean(measured, m => m.PeriodicPeak));

    static double Mean(IReadOnlyList<RenderLikeness> measured, Func<RenderLikeness, double> value) => measured.Count == 0 ? 0 : measured.Average(value);
}

/// An SR stage's one-step clean estimate from the exact render noised to each timestep (ShapeBenchRunner.MeasureDenoising),
/// and the mean of NoiseDraws estimates from pure noise (t = PureNoiseTimestep), each from its own noise.
public sealed record SuperResolutionDenoising(string Stage, int Images, IReadOnlyList<TimestepPsnr> Estimates,
    int PureNoiseTimestep, double PureNoiseMeanOfDrawsPsnr, double BicubicPsnr)
{
    public const int NoiseDraws = 4;
}

public sealed record ShapeBenchReport(
    string PromptFile,
    string ImageEmbeddingSource,
    int Prompts,
    IReadOnlyDictionary<string, Accuracy> AccuracyByObjectCount,
    Accuracy Overall,
    double ClipScoreGenerated,
    double ClipScoreRenders,
    double FrechetClipDistance,
    double ClipRetrievalTop1,
    IReadOnlyList<SuperResolutionQuality> SuperResolution,
    double SecondsPerImage64,
    IReadOnlyList<PromptResult> Results,
    IReadOnlyList<LikenessAtSize>? Likeness = null)
{
    public static Accuracy Summarise(IReadOnlyList<PromptResult> results)
    {
        int objects = Math.Max(1, results.Sum(r => r.Objects));
        return new Accuracy(results.Count,
            results.Count == 0 ? 0 : results.Count(r => r.FullyCorrect) / (double)results.Count,
            results.Sum(r => r.ColourFound) / (double)objects,
            results.Sum(r => r.ShapeCorrect) / (double)objects,
            results.Sum(r => r.SizeCorrect) / (double)objects,
            results.Sum(r => r.PositionCorrect) / (double)objects,
            results.Count == 0 ? 0 : results.Count(r => r.CountCorrect) / (double)results.Count);
    }

    public string ToMarkdown(string gridFile)
    {
        static string P(double x) => $"{100 * x:F1}%";
        var lines = new List<string>
        {
            $"# ShapeBench: {PromptFile}",
            "",
            $"{Prompts} prompts, 64 px, parsed by the deterministic scene parser. Decoder conditioned on: {ImageEmbeddingSource}.",
            "",
            "| objects | prompts | fully correct | colour | shape | size | position | count |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        };
        foreach (var (name, a) in AccuracyByObjectCount.Append(new("all", Overall)))
            lines.Add($"| {name} | {a.Prompts} | {P(a.FullyCorrect)} | {P(a.Colour)} | {P(a.Shape)} | {P(a.Size)} | {P(a.Position)} | {P(a.Count)} |");
        lines.AddRange(new[]
        {
            "",
            "| measure | value |",
            "|---|---:|",
            $"| CLIP score, generated (100 x cosine with the prompt) | {ClipScoreGenerated:F2} |",
            $"| CLIP score, exact renders of the same prompts | {ClipScoreRenders:F2} |",
            $"| Frechet distance in CLIP image space, generated vs renders | {FrechetClipDistance:F3} |",
            $"| CLIP caption -> image retrieval top-1 among {Prompts} renders | {P(ClipRetrievalTop1)} |",
            $"| seconds per 64 px image (batched) | {SecondsPerImage64:F2} |",
            "",
        });
        if (SuperResolution.Count > 0)
        {
            lines.AddRange(SuperResolutionRows(SuperResolution));
            lines.Add("");
            lines.Add("SR inputs are the exact low-resolution renders of held-out scenes; targets the exact high-resolution renders.");
            lines.Add("");
        }
        if (Likeness is { Count: > 0 })
        {
            lines.Add("| size | images | background spread | border band | edge width (x render's) | outline IoU | periodic peak |");
            lines.Add("|---:|---:|---:|---:|---:|---:|---:|");
            lines.AddRange(Likeness.Select(l =>
                $"| {l.Size} px | {l.Images} | {l.Spread:F2} / 255 | {l.BorderBand:F2} / 255 | {l.EdgeWidth:F2} | {l.OutlineIou:F3} | {l.PeriodicPeak:F1} dB |"));
            lines.Add("");
            lines.Add("How much the generated pictures look like renders (RenderLikeness), on the prompts whose 64 px base the parser reads right, " +
                "through the cascade's own SR stages, each against the exact render of the prompt's scene at its size. A render scores " +
                "0 / 0 / 1.00 / 0.97-1 / 0 dB.");
            lines.Add("");
        }
        lines.Add($"![grid]({gridFile})");
        lines.Add("");
        lines.Add("Grid columns: generated 64 px (shown at 256), then 256 and 1024 px from the SR stages (shown at 256) when run, then the exact render.");
        lines.Add("");
        lines.Add("| id | prompt | correct |");
        lines.Add("|---:|---|---|");
        lines.AddRange(Results.Take(12).Select(r => $"| {r.Id} | {r.Prompt} | {(r.FullyCorrect ? "yes" : "no")} |"));
        return string.Join("\n", lines) + "\n";
    }

    /// The denoising table: one row per SR stage, PSNR of its one-step estimate at each timestep, of the mean of several
    /// draws' estimates from pure noise, then bicubic's.
    public static IEnumerable<string> DenoisingRows(IReadOnlyList<SuperResolutionDenoising> stages)
    {
        var timesteps = stages.SelectMany(s => s.Estimates.Select(e => e.Timestep)).Distinct().ToList();
        var pureNoise = stages.Select(s => s.PureNoiseTimestep).Distinct().Single();
        yield return "| SR stage | images | " + string.Join(" | ", timesteps.Select(t => $"t = {t}"))
            + $" | t = {pureNoise}, mean of {SuperResolutionDenoising.NoiseDraws} draws | bicubic |";
        yield return "|---|---:|" + string.Concat(timesteps.Select(_ => "---:|")) + "---:|---:|";
        foreach (var s in stages)
            yield return $"| {s.Stage} | {s.Images} | " + string.Join(" | ", s.Estimates.Select(e => $"{e.Psnr:F2} dB"))
                + $" | {s.PureNoiseMeanOfDrawsPsnr:F2} dB | {s.BicubicPsnr:F2} dB |";
    }

    /// The SR table: each stage against bicubic upsampling of the same exact low-resolution render.
    public static IEnumerable<string> SuperResolutionRows(IEnumerable<SuperResolutionQuality> stages) =>
        new[] { "| SR stage | images | PSNR | SSIM | bicubic PSNR | bicubic SSIM |", "|---|---:|---:|---:|---:|---:|" }
            .Concat(stages.Select(s => $"| {s.Stage} | {s.Images} | {s.Psnr:F2} dB | {s.Ssim:F4} | {s.BicubicPsnr:F2} dB | {s.BicubicSsim:F4} |"));
}
