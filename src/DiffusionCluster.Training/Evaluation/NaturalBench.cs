using DiffusionCluster.Abstractions;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Training.Evaluation;

/// One prompt of the natural ShapeBench set: its category, the words, and what it asks for.
public sealed record BenchCase(int Id, string Category, string Prompt, SceneRequest Request)
{
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static BenchCase From(NaturalPrompt p) => new(p.Id, JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Category.ToString()), p.Prompt, p.Request);

    /// A dev-set prompt (every attribute and place named) as a request; its category is its object count.
    public static BenchCase From(BenchPrompt p) => new(p.Id, $"dev_{p.Scene.Objects.Count}_objects", p.Prompt, new SceneRequest(
        p.Scene.Objects.Select(o => new ObjectRequest(o.Shape, o.Colour, o.Size, o.Texture, p.Relation is null ? o.Position : null)).ToList(),
        p.Relation is null ? [] : [p.Relation], p.Scene.Background));

    /// The natural set: a file whose rows carry a category; the dev set's rows (a full scene each) are read as requests.
    public static List<BenchCase> Read(string path)
    {
        if (!IsNaturalSet(path)) return BenchPrompt.Read(path).Select(From).ToList();
        return File.ReadLines(path).Where(l => l.Trim().Length > 0).Select((line, i) =>
        {
            try
            {
                return JsonSerializer.Deserialize<BenchCase>(line, Json) ?? throw new JsonException("empty line");
            }
            catch (JsonException e)
            {
                throw new ArgumentException($"{path} line {i + 1}: {e.Message}");
            }
        }).ToList();
    }

    /// Whether a prompt file's rows carry a category (the natural set) rather than a full scene (the dev set).
    public static bool IsNaturalSet(string path) =>
        File.Exists(path) && (File.ReadLines(path).FirstOrDefault(l => l.Trim().Length > 0)?.Contains("\"category\"") ?? false);

    public static void Write(string path, IEnumerable<BenchCase> cases) =>
        File.WriteAllLines(path, cases.Select(c => JsonSerializer.Serialize(c, Json)));
}

/// ShapeBench on prompts as people write them: each prompt goes through the model folder's composer with its seed
/// (a refused prompt counts as wrong and says why), the 64 px cascade draws the caption, the scene parser reads the
/// picture, and the picture is fully correct when it has exactly the asked-for objects with every named attribute,
/// relation and background. Unplaced prompts are also drawn with `diversitySeeds` seeds: how many distinct
/// arrangements (the parsed objects' cells) the pictures show.
public sealed class NaturalBench(CascadePipeline pipeline, TextWriter log)
{
    public static readonly string[] UnplacedCategories = ["one_unplaced", "two_unplaced"];

    /// Parsed: the parsed objects' cells in order, what "arrangement" means for diversity. Misses: what was wrong
    /// (count, texture when only textures were, objects, relations, background).
    public sealed record CaseResult(int Id, string Category, string Prompt, ulong Seed, string? Caption, string? Refused, bool FullyCorrect, bool CountCorrect,
        string Parsed, string Misses = "");

    public sealed record CategorySummary(string Category, int Prompts, int FullyCorrect, int Refused, int CountCorrect, double? MeanArrangements, int? FewestArrangements)
    {
        public double FullyCorrectPercent => 100.0 * FullyCorrect / Prompts;
    }

    public sealed record Report(string Source, int Prompts, int DiversitySeeds, IReadOnlyList<CategorySummary> Categories, double FullyCorrectPercent,
        IReadOnlyList<CaseResult> Results, IReadOnlyList<CaseResult> DiversityResults);

    /// diversityPrompts: how many prompts of each unplaced category are drawn with diversitySeeds seeds.
    public (Report Report, Tensor Grid) Run(string source, IReadOnlyList<BenchCase> cases, GenerationSpec sampling, int diversitySeeds = 8, int diversityPrompts = 20,
        int batchSize = 10, int gridPerCategory = 4)
    {
        using var _ = no_grad();
        var runs = cases.Select(c => (Case: c, Seed: (ulong)c.Id)).ToList();
        var results = Draw(runs, sampling, batchSize, out var images);
        var diversityRuns = cases.Where(c => UnplacedCategories.Contains(c.Category)).GroupBy(c => c.Category).SelectMany(g => g.Take(diversityPrompts))
            .SelectMany(c => Enumerable.Range(0, diversitySeeds).Select(k => (Case: c, Seed: (ulong)(100_000 + c.Id * 100 + k)))).ToList();
        var diversity = Draw(diversityRuns, sampling, batchSize, out var diversityImages);
        foreach (var t in diversityImages) t?.Dispose();

        var summaries = results.GroupBy(r => r.Category).Select(g =>
        {
            var arrangements = diversity.Where(d => d.Category == g.Key).GroupBy(d => d.Id)
                .Select(p => p.Select(d => d.Parsed).Distinct().Count()).ToList();
            return new CategorySummary(g.Key, g.Count(), g.Count(r => r.FullyCorrect), g.Count(r => r.Refused is not null), g.Count(r => r.CountCorrect),
                arrangements.Count > 0 ? arrangements.Average() : null, arrangements.Count > 0 ? arrangements.Min() : null);
        }).ToList();

        var gridImages = new List<Tensor>();
        foreach (var group in results.Select((r, i) => (r, i)).GroupBy(x => x.r.Category))
            foreach (var (r, i) in group.Take(gridPerCategory))
                gridImages.Add(images[i] is { } image ? F.interpolate(image.unsqueeze(0), new long[] { 128, 128 }, mode: InterpolationMode.Nearest)[0] : full(3, 128, 128, -1f));
        var grid = Png.Grid(gridImages, gridPerCategory);
        foreach (var t in images) t?.Dispose();
        var report = new Report(source, cases.Count, diversitySeeds, summaries, 100.0 * results.Count(r => r.FullyCorrect) / results.Count, results, diversity);
        return (report, grid);
    }

    List<CaseResult> Draw(IReadOnlyList<(BenchCase Case, ulong Seed)> runs, GenerationSpec sampling, int batchSize, out List<Tensor?> images)
    {
        var results = new CaseResult?[runs.Count];
        images = Enumerable.Repeat<Tensor?>(null, runs.Count).ToList();
        var drawable = new List<(int Index, string Caption)>();
        for (int i = 0; i < runs.Count; i++)
        {
            var (c, seed) = runs[i];
            try
            {
                drawable.Add((i, pipeline.Text.Compose(c.Prompt, seed).Caption));
            }
            catch (ArgumentException e)
            {
                results[i] = new CaseResult(c.Id, c.Category, c.Prompt, seed, null, e.Message, false, false, "");
            }
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int start = 0; start < drawable.Count; start += batchSize)
        {
            var batch = drawable.Skip(start).Take(batchSize).ToList();
            var seeds = batch.Select(b => runs[b.Index].Seed).ToList();
            using var scope = NewDisposeScope();
            var pictures = pipeline.SampleBases(batch.Select(b => b.Caption).ToList(), seeds, sampling.Prior, sampling.Decoder64);
            for (int k = 0; k < batch.Count; k++)
            {
                var (index, caption) = batch[k];
                var c = runs[index].Case;
                var colours = (pipeline.Text.Composer?.World.ObjectColours ?? Palette.Objects.Select(o => o.Name))
                    .Concat(c.Request.Objects.Where(o => o.Colour is not null).Select(o => o.Colour!));
                var parsed = SceneParser.Parse(pictures[k], colours);
                var score = RequestScore.Of(c.Request, parsed);
                var cells = string.Join(",", parsed.Objects.Select(o => o.Position).Order());
                results[index] = new CaseResult(c.Id, c.Category, c.Prompt, seeds[k], caption, null, score.FullyCorrect, score.CountCorrect, cells, Misses(c.Request, parsed, score));
                images[index] = pictures[k].clone().DetachFromDisposeScope();
            }
            log.WriteLine(ProgressLine.Format("natural shapebench: drew", Math.Min(start + batchSize, drawable.Count), drawable.Count, clock.Elapsed));
        }
        return results.Select(r => r!).ToList();
    }

    static string Misses(SceneRequest request, ParsedScene parsed, RequestScore score)
    {
        var misses = new List<string>();
        if (!score.CountCorrect) misses.Add("count");
        else if (!score.ObjectsCorrect)
        {
            var untextured = request with { Objects = request.Objects.Select(o => o with { Texture = null }).ToList() };
            misses.Add(RequestScore.Of(untextured, parsed).ObjectsCorrect ? "texture" : "objects");
        }
        else if (!score.RelationsHold) misses.Add("relations");
        if (!score.BackgroundCorrect) misses.Add("background");
        return string.Join(",", misses);
    }

    public static string ToMarkdown(Report report, string grid)
    {
        var text = new StringBuilder();
        text.AppendLine($"# ShapeBench, prompts as people write them ({report.Prompts} prompts, 64 px)\n");
        text.AppendLine($"Cascade: {report.Source}. A prompt is fully correct when the picture has exactly the asked-for objects, each with every");
        text.AppendLine("attribute the prompt names, the named relations and background (scene parser). Refused: the composer refused the prompt");
        text.AppendLine($"(what it asks is outside the model's world). Arrangements: distinct object cells in {report.DiversitySeeds} seeds of each unplaced prompt.\n");
        text.AppendLine("| category | prompts | fully correct | refused | right object count | arrangements in 8 seeds (mean / fewest) |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var c in report.Categories)
            text.AppendLine($"| {c.Category} | {c.Prompts} | {c.FullyCorrectPercent:F1}% | {c.Refused} | {100.0 * c.CountCorrect / c.Prompts:F1}% | "
                + (c.MeanArrangements is { } mean ? $"{mean:F1} / {c.FewestArrangements}" : "") + " |");
        text.AppendLine($"| all | {report.Prompts} | {report.FullyCorrectPercent:F1}% | {report.Categories.Sum(c => c.Refused)} | | |\n");
        text.AppendLine($"![the first pictures of each category, one row per category; a refused prompt shows black]({grid})\n");
        text.AppendLine("| id | category | prompt | caption drawn | fully correct |");
        text.AppendLine("|---:|---|---|---|---|");
        foreach (var r in report.Results)
            text.AppendLine($"| {r.Id} | {r.Category} | {r.Prompt} | {r.Caption ?? "refused: " + r.Refused} | {(r.FullyCorrect ? "yes" : r.Refused is null ? $"no ({r.Misses})" : "no")} |");
        return text.ToString();
    }
}
