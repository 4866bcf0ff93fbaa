using System.Text.Json;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;

namespace DiffusionCluster.Cli.Commands;

/// `eval`: ShapeBench on a prompt file (the dev set by default); writes results.json, report.md and grid.png.
/// A natural set (shapebench/natural.jsonl: prompts as people write them, by category), or any set with --compose,
/// goes through the model's composer and is scored per category. `eval write-dev FILE` / `eval write-natural FILE`
/// write the prompt sets.
public static class EvalCommand
{
    public const string DevSet = "shapebench/dev.jsonl";
    public const string NaturalSet = "shapebench/natural.jsonl";

    /// Where --sr-only measures each SR stage's one-step denoising: pure noise, the middle, and near the end.
    static readonly int[] DenoisingTimesteps = [999, 750, 500, 250, 100];

    public static int Run(Arguments args)
    {
        if (args.Positionals.FirstOrDefault() == "write-dev")
        {
            var path = args.Positionals.ElementAtOrDefault(1) ?? DevSet;
            args.RejectUnknown();
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            BenchPrompt.Write(path, BenchPrompt.DevSet());
            Console.WriteLine($"wrote {path}");
            return 0;
        }
        if (args.Positionals.FirstOrDefault() == "write-natural")
        {
            var path = args.Positionals.ElementAtOrDefault(1) ?? NaturalSet;
            // Another seed gives a set to tune sampling on, apart from the one results are reported on.
            int perCategory = args.Int("per-category", 20, 1, 1000), seed = args.Int("seed", 2026, 0, int.MaxValue);
            args.RejectUnknown();
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            BenchCase.Write(path, NaturalPrompts.Generate(perCategory, seed, World.Shapes).Select(BenchCase.From));
            Console.WriteLine($"wrote {path}");
            return 0;
        }
        var promptFile = args.Text("prompts", DevSet);
        var model = args.Text("model", CascadeFolder.Bundled);
        var device = DeviceOption.Parse(args.Text("device", "cpu"));
        var dtype = PrecisionOption.Parse(args.Text("precision", "fp32"), device);
        var output = args.Text("out", "eval/shapebench");
        int limit = args.Int("limit", int.MaxValue, 1, int.MaxValue);
        int objects = args.Int("objects", 0, 1, 3);
        var options = new ShapeBenchRunner.Options(BatchSize: args.Int("batch", 10, 1, 256), RunSuperResolution: !args.Flag("no-sr"),
            SrImages256: args.Int("sr256-images", 12, 0, 1000), SrImages1024: args.Int("sr1024-images", 3, 0, 1000),
            LikenessImages: args.Int("likeness-images", 20, 0, 1000));
        var sampling = StageOptions.Request(args, "-");
        bool srOnly = args.Flag("sr-only");
        bool natural = args.Flag("compose") || BenchCase.IsNaturalSet(promptFile);
        int diversitySeeds = args.Int("diversity-seeds", 8, 0, 100);
        int diversityPrompts = args.Int("diversity-prompts", 20, 0, 1000);
        args.RejectUnknown();
        if (natural)
        {
            var cases = BenchCase.Read(promptFile).Where(c => objects == 0 || c.Request.Objects.Count == objects).Take(limit).ToList();
            var bench = new NaturalBench(new CascadePipeline(model, device, dtype), Console.Error);
            var sourceNote = $"{model}; decoder layout share {sampling.Decoder64.Layout?.ToString() ?? "default"}";
            var (naturalReport, naturalGrid) = bench.Run(sourceNote, cases, sampling, diversitySeeds, diversityPrompts, options.BatchSize);
            Directory.CreateDirectory(output);
            using (naturalGrid) File.WriteAllBytes(Path.Combine(output, "grid.png"), Png.Encode(naturalGrid));
            File.WriteAllText(Path.Combine(output, "results.json"), JsonSerializer.Serialize(naturalReport, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            var naturalMarkdown = NaturalBench.ToMarkdown(naturalReport, "grid.png");
            File.WriteAllText(Path.Combine(output, "report.md"), naturalMarkdown);
            Console.WriteLine(naturalMarkdown[..naturalMarkdown.IndexOf("![", StringComparison.Ordinal)]);
            return 0;
        }
        if (srOnly && !options.RunSuperResolution) throw new UsageException("--sr-only and --no-sr exclude each other");

        var prompts = BenchPrompt.ReadAtLeastTwo(promptFile, objects, "ShapeBench", limit);
        // The networks run in the chosen precision; scoring (CLIP, parser) stays fp32.
        var pipeline = new CascadePipeline(model, device, dtype);
        var clipImage = CascadeFolder.LoadImageEncoder(model, device: device);
        var runner = new ShapeBenchRunner(pipeline, clipImage, Console.Error);
        if (srOnly)
        {
            var quality = runner.MeasureSuperResolution(prompts, sampling, options.SrImages256, options.SrImages1024);
            var denoising = runner.MeasureDenoising(prompts, DenoisingTimesteps, options.SrImages256, options.SrImages1024);
            var table = string.Join("\n", ShapeBenchReport.SuperResolutionRows(quality)) + "\n\n"
                + "One-step clean estimate from the exact render noised to t (PSNR against it):\n\n"
                + string.Join("\n", ShapeBenchReport.DenoisingRows(denoising)) + "\n";
            Directory.CreateDirectory(output);
            File.WriteAllText(Path.Combine(output, "super-resolution.json"), JsonSerializer.Serialize(new { quality, denoising }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            File.WriteAllText(Path.Combine(output, "super-resolution.md"), table);
            Console.WriteLine(table);
            return 0;
        }
        var (report, grid) = runner.Run(promptFile, prompts, sampling, options);

        Directory.CreateDirectory(output);
        using (grid) File.WriteAllBytes(Path.Combine(output, "grid.png"), Png.Encode(grid));
        File.WriteAllText(Path.Combine(output, "results.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        var markdown = report.ToMarkdown("grid.png");
        File.WriteAllText(Path.Combine(output, "report.md"), markdown);
        Console.WriteLine(markdown);
        return 0;
    }
}
