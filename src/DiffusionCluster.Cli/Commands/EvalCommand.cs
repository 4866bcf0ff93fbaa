using System.CommandLine;
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

    static readonly Option<string> PromptsOption = CliOption.Text("--prompts", "the prompt set (a natural set, or any with --compose, is scored by category)", DevSet, "FILE.jsonl");
    static readonly Option<int?> ObjectsOption = CliOption.OptionalInt("--objects", "only the prompts with that many objects", 1, 3);
    static readonly Option<int?> LimitOption = CliOption.OptionalInt("--limit", "the first N prompts only", 1, int.MaxValue);
    static readonly Option<int> BatchOption = CliOption.Int("--batch", "images generated together", 10, 1, 256);
    static readonly Option<bool> NoSrOption = CliOption.Flag("--no-sr", "leave out the SR stages' measures");
    static readonly Option<bool> SrOnlyOption = CliOption.Flag("--sr-only", "the SR stages alone: super-resolution.json and .md, with each SR stage's one-step denoising PSNR at t = 999 ... 100");
    static readonly Option<int> Sr256ImagesOption = CliOption.Int("--sr256-images", "images the 256 px stage is measured on against exact renders", 12, 0, 1000);
    static readonly Option<int> Sr1024ImagesOption = CliOption.Int("--sr1024-images", "images the 1024 px stage is measured on against exact renders", 3, 0, 1000);
    static readonly Option<int> LikenessImagesOption = CliOption.Int("--likeness-images", "prompts whose pictures are measured against renders at 64, 256 and 1024 px "
        + "(background spread, border band, edge width, outline IoU, periodic peak)", 20, 0, 1000);
    static readonly Option<bool> ComposeOption = CliOption.Flag("--compose", "run the prompts through the model's composer and score by category (natural sets do)");
    static readonly Option<int> DiversitySeedsOption = CliOption.Int("--diversity-seeds", "seeds per prompt for the diversity measure (natural sets)", 8, 0, 100);
    static readonly Option<int> DiversityPromptsOption = CliOption.Int("--diversity-prompts", "prompts for the diversity measure (natural sets)", 20, 0, 1000);
    static readonly Option<string> OutputOption = CliOption.Text("--out", "the report's folder", "eval/shapebench", "DIR");
    static readonly Option<string> ModelOption = CliOption.Model();
    static readonly Option<string> DeviceNameOption = CliOption.Device();
    static readonly Option<string> PrecisionNameOption = CliOption.Precision("fp32, fp16 or bf16 (the networks; scoring stays fp32)");
    static readonly RequestOptions Request = new(deadline: false);

    public static Command Create()
    {
        var command = new Command("eval", "ShapeBench: generates each prompt, scores it with the scene parser and CLIP, measures the SR stages against exact "
            + "renders and, through them, how like renders the first prompts' pictures look at 64, 256 and 1024 px; writes results.json, report.md and grid.png.")
        {
            PromptsOption, ObjectsOption, LimitOption, BatchOption, NoSrOption, SrOnlyOption, Sr256ImagesOption, Sr1024ImagesOption, LikenessImagesOption,
            ComposeOption, DiversitySeedsOption, DiversityPromptsOption, OutputOption, ModelOption, DeviceNameOption, PrecisionNameOption,
        };
        Request.AddTo(command);
        command.Subcommands.Add(WriteDev());
        command.Subcommands.Add(WriteNatural());
        command.SetAction(Run);
        return command;
    }

    static Command WriteDev()
    {
        var file = new Argument<string>("file") { Description = "where to write", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => DevSet };
        var command = new Command("write-dev", "Writes the dev prompt set (held-out compositions).") { file };
        command.SetAction(line =>
        {
            var path = line.GetValue(file)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            BenchPrompt.Write(path, BenchPrompt.DevSet());
            Console.WriteLine($"wrote {path}");
            return 0;
        });
        return command;
    }

    static Command WriteNatural()
    {
        var file = new Argument<string>("file") { Description = "where to write", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => NaturalSet };
        var perCategory = CliOption.Int("--per-category", "prompts per category", 20, 1, 1000);
        // Another seed gives a set to tune sampling on, apart from the one results are reported on.
        var seed = CliOption.Int("--seed", "another seed gives a set to tune on", 2026, 0, int.MaxValue, "S");
        var command = new Command("write-natural", "Writes prompts as people write them, by category.") { file, perCategory, seed };
        command.SetAction(line =>
        {
            var path = line.GetValue(file)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            BenchCase.Write(path, NaturalPrompts.Generate(line.GetValue(perCategory), line.GetValue(seed), World.Shapes).Select(BenchCase.From));
            Console.WriteLine($"wrote {path}");
            return 0;
        });
        return command;
    }

    static int Run(ParseResult line)
    {
        var promptFile = line.GetValue(PromptsOption)!;
        var model = line.GetValue(ModelOption)!;
        var device = DeviceOption.Parse(line.GetValue(DeviceNameOption)!);
        var dtype = PrecisionOption.Parse(line.GetValue(PrecisionNameOption)!, device);
        var output = line.GetValue(OutputOption)!;
        int limit = line.GetValue(LimitOption) ?? int.MaxValue;
        int objects = line.GetValue(ObjectsOption) ?? 0;
        var options = new ShapeBenchRunner.Options(BatchSize: line.GetValue(BatchOption), RunSuperResolution: !line.GetValue(NoSrOption),
            SrImages256: line.GetValue(Sr256ImagesOption), SrImages1024: line.GetValue(Sr1024ImagesOption), LikenessImages: line.GetValue(LikenessImagesOption));
        var sampling = Request.Read(line, "-");
        bool srOnly = line.GetValue(SrOnlyOption);
        bool natural = line.GetValue(ComposeOption) || BenchCase.IsNaturalSet(promptFile);
        int diversitySeeds = line.GetValue(DiversitySeedsOption);
        int diversityPrompts = line.GetValue(DiversityPromptsOption);
        if (srOnly && !options.RunSuperResolution) throw new UsageException("--sr-only and --no-sr exclude each other");
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
