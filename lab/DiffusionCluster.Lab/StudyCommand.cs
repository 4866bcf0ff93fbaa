using DiffusionCluster.Abstractions;
using System.CommandLine;
using System.Text.Json;
using DiffusionCluster.Cli.Commands;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Training.Evaluation;
using DiffusionCluster.Lab.Studies;

namespace DiffusionCluster.Lab;

/// `study`: the seed review's measurements on ShapeBench prompts, each writing a Markdown table, the same
/// figures as JSON, and a plot (SVG) or image grid.
public static class StudyCommand
{
    static readonly string[] Studies =
        ["edits", "generated-variations", "guidance", "thresholding", "sr-aug", "sr-windows", "sr-cleaning", "diffae", "layout", "rerank", "layout-guide", "segmentation", "decoder-denoising", "oracle-prior"];

    static readonly Argument<string> WhichArgument = new Argument<string>("study") { Description = "which study" }.AcceptOnlyFromAmong(Studies);
    static readonly Option<string> PromptsOption = CliOption.Text("--prompts", "the prompt set", EvalCommand.DevSet, "FILE.jsonl");
    static readonly Option<int?> ObjectsOption = CliOption.OptionalInt("--objects", "only the prompts with that many objects", 1, 3);
    static readonly Option<int?> LimitOption = CliOption.OptionalInt("--limit", "scenes or prompts (defaults: edits 12, sr-windows 8, layout 128 decoder scenes, "
        + "rerank 100, segmentation 50 held-out renders, else 20)", 2, 10_000);
    static readonly Option<int?> StepsOption = CliOption.OptionalInt("--steps", "denoising steps (segmentation: training steps, default 800; else default 25, "
        + "edits: the decoder's own)", 1, 1_000_000);
    static readonly Option<int> CandidatesOption = CliOption.Int("--candidates", "rerank: draws per prompt", 8, 1, RerankStudy.MaxCandidates);
    static readonly Option<string?> SharesOption = CliOption.OptionalText("--shares", "layout-guide: the layout shares tried (default 0.5,0.7,0.9); edits: the "
        + "variations' layout shares (default the decoder's)", "S1,S2,...");
    static readonly Option<int[]> LabelledOption = CliOption.Ints("--labelled", "segmentation: labelled render counts", "10,20,50", 1, 100_000);
    static readonly Option<int> OffsetOption = CliOption.Int("--offset", "edits and diffae: skip the first N scenes (settings are chosen on one slice and reported on another)", 0, 0, 100_000);
    static readonly Option<int[]> InversionStepsOption = CliOption.Ints("--inversion-steps", "edits: the reconstruction's step counts, the first also the other parts'",
        $"{InvertingOperation.DefaultInversionSteps}", 5, 1000);
    static readonly Option<string> DirectionsOption = CliOption.Text("--directions", "diffae: bundled, or class-means (of 400 training renders)", "bundled", "KIND");
    static readonly Option<string> PartsOption = CliOption.Text("--parts", $"edits: some of {string.Join(", ", EditStudy.AllParts)} (default all)", "", "P1,P2,...");
    static readonly Option<double> EditStrengthOption = CliOption.Double("--edit-strength", "the contrastive edit of text diffs and diffae: strength",
        ContrastEditOptions.Default.Strength, 0.01, 1, "S");
    static readonly Option<double> EditGuidanceOption = CliOption.Double("--edit-guidance", "the contrastive edit of text diffs and diffae: guidance",
        ContrastEditOptions.Default.Guidance, 1, ContrastEditOptions.MaxGuidance, "W");
    static readonly Option<string?> CompareOption = CliOption.OptionalText("--compare", "sr-cleaning: another model folder whose SR stages run on the same pictures", "DIR");
    static readonly Option<string> ModelOption = CliOption.Model();
    static readonly Option<string> DeviceNameOption = CliOption.Device();
    static readonly Option<string> PrecisionNameOption = CliOption.Precision();
    static readonly Option<string> OutputOption = CliOption.Text("--out", "the report's folder", "eval/studies", "DIR");

    public static Command Create(string commandLine)
    {
        var command = new Command("study", "The seed review's measurements on ShapeBench prompts. edits: reconstruction PSNR, variations, text diffs, "
            + "inpainting/uncropping, SDEdit and ILVR on held-out scenes; generated-variations: variations of the cascade's own pictures, "
            + "captioned by the reader as the cluster does, and from z_i alone; guidance: classifier-free vs CLIP guidance; thresholding: none/static/dynamic "
            + "across guidance weights; sr-aug: the SR input's noise-augmentation level; sr-windows: each SR stage's window tilings by PSNR to the exact "
            + "render, error on the seams and time per image; sr-cleaning: the SR stages on the cascade's own 64 px pictures, against exact renders, "
            + "beside another folder's (--compare); diffae: attribute manipulation along the fitted directions on held-out single-object "
            + "scenes; layout: whether the embeddings and the prior's samples say where an object is, and whether the decoder puts objects there; "
            + "rerank: best-of-N by CLIP; layout-guide: fully correct without a layout guide, with the layout model's and with the exact render's "
            + "low-pass; segmentation: mean IoU of the per-pixel classifier on decoder features against raw pixels; decoder-denoising: the 64 px "
            + "decoder's one-step clean estimate from exact renders noised to t = 999 ... 100; oracle-prior: ShapeBench with the decoder conditioned "
            + "on CLIP's embedding of the exact render.")
        {
            WhichArgument, PromptsOption, ObjectsOption, LimitOption, StepsOption, CandidatesOption, SharesOption, LabelledOption, OffsetOption,
            InversionStepsOption, DirectionsOption, PartsOption, EditStrengthOption, EditGuidanceOption, CompareOption, ModelOption, DeviceNameOption, PrecisionNameOption, OutputOption,
        };
        command.SetAction(line => Run(line, commandLine));
        return command;
    }

    static int Run(ParseResult line, string commandLine)
    {
        var which = line.GetValue(WhichArgument)!;
        var promptFile = line.GetValue(PromptsOption)!;
        var model = line.GetValue(ModelOption)!;
        var device = DeviceOption.Parse(line.GetValue(DeviceNameOption)!);
        var dtype = PrecisionOption.Parse(line.GetValue(PrecisionNameOption)!, device);
        var output = line.GetValue(OutputOption)!;
        int limit = line.GetValue(LimitOption) ?? which switch { "edits" => 12, "sr-windows" => 8, "layout" => 128, "rerank" => 100, "segmentation" => 50, _ => 20 };
        int? givenSteps = line.GetValue(StepsOption);
        if (which != "segmentation" && givenSteps > 1000) throw new UsageException($"--steps {givenSteps}: must be a whole number from 1 to 1000 (denoising steps)");
        int steps = givenSteps ?? (which == "segmentation" ? 800 : 25);
        int candidates = line.GetValue(CandidatesOption);
        int objects = line.GetValue(ObjectsOption) ?? 0;
        var sharesText = line.GetValue(SharesOption);
        var shares = which == "layout-guide" ? Shares(sharesText ?? "0.5,0.7,0.9") : which == "edits" && sharesText is not null ? Shares(sharesText) : [];
        var labelled = line.GetValue(LabelledOption)!.Distinct().Order().ToArray();
        int offset = line.GetValue(OffsetOption);
        var inversionSteps = line.GetValue(InversionStepsOption)!;
        var directionKind = line.GetValue(DirectionsOption)!;
        var parts = line.GetValue(PartsOption)!;
        var edit = ContrastEditOptions.Default with { Strength = line.GetValue(EditStrengthOption), Guidance = line.GetValue(EditGuidanceOption) };

        var all = BenchPrompt.ReadAtLeastTwo(promptFile, objects, "a study");
        var operations = new ImageOperations(new CascadePipeline(model, device, dtype));
        var clipImage = CascadeFolder.LoadImageEncoder(model, device: device);
        clipImage.eval();
        var guidance = new GuidanceStudy(operations, clipImage, Console.Error);
        Directory.CreateDirectory(output);
        StudyReport Plotted(string title, StudyTable table, string svg, string file, string caption)
        {
            var plotted = new StudyReport(title, commandLine);
            plotted.Add(table);
            File.WriteAllText(Path.Combine(output, file), svg);
            plotted.Image(file, caption);
            return plotted;
        }
        StudyReport report;
        switch (which)
        {
            case "edits":
                // Single- and two-object scenes, alternating, so both kinds are in a short run.
                var scenes = all.Where(p => p.Scene.Objects.Count == 1).Zip(all.Where(p => p.Scene.Objects.Count == 2)).SelectMany(z => new[] { z.First, z.Second }).Skip(offset).Take(limit).ToList();
                if (scenes.Count == 0) throw new UsageException("study edits needs single- and two-object prompts; leave out --objects");
                var picked = parts.Length == 0 ? null : parts.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
                if (picked?.Except(EditStudy.AllParts).FirstOrDefault() is { } unknown)
                    throw new UsageException($"unknown part \"{unknown}\" of study edits; choose from {string.Join(", ", EditStudy.AllParts)}");
                // The decoder's own defaults unless --steps is given: the figures are the product's.
                var editDecoder = givenSteps is not null ? new SamplingOptions { Steps = steps } : SamplingOptions.Default;
                report = new EditStudy(operations, Console.Error).Run(scenes, new EditStudy.Options(Scenes: limit, Decoder: editDecoder,
                    Edit: edit, Parts: picked, LayoutShares: shares.Length == 0 ? null : shares, InversionSteps: inversionSteps[0],
                    ReconstructionSteps: inversionSteps), commandLine, output);
                break;
            case "generated-variations":
                report = new EditStudy(operations, Console.Error).GeneratedVariations(all.Where(p => p.Scene.Objects.Count <= 2).Skip(offset).ToList(),
                    new EditStudy.Options(Scenes: limit, Decoder: givenSteps is not null ? new SamplingOptions { Steps = steps } : SamplingOptions.Default), commandLine);
                break;
            case "guidance":
                var (cfgTable, cfgPlot, _) = guidance.ClassifierFreeVsClip(Mixed(all, limit), [1, 2, 3, 5, 8], [10, 30, 100, 300], steps);
                report = Plotted("Classifier-free vs CLIP guidance", cfgTable, cfgPlot, "guidance.svg",
                    "Colour found against CLIP score, one point per setting (weakest to strongest).");
                var noisyClip = CascadeFolder.LoadImageEncoder(model, CascadeFolder.NoisyImageEncoder, device);
                noisyClip.eval();
                report.Add(guidance.NoisyClipRetrieval(all, noisyClip, [0, 250, 500, 750, 900]));
                break;
            case "thresholding":
                var (thresholdTable, saturationPlot, _) = guidance.Thresholding(Mixed(all, limit), [1, 3, 5, 8, 12, 20], steps);
                report = Plotted("Static vs dynamic thresholding across guidance weights", thresholdTable, saturationPlot, "thresholding.svg",
                    "Saturated pixels against guidance weight per thresholding method.");
                break;
            case "sr-aug":
                var (srTable, srPlot) = guidance.SuperResolutionAugmentation(Mixed(all, limit), [0, 50, 100, 250, 500], Math.Min(steps, 20));
                report = Plotted("Noise augmentation level of the SR input", srTable, srPlot, "sr-aug.svg", "SR 256 PSNR against the input's augmentation level.");
                break;
            case "sr-cleaning":
                var compared = new List<(string, CascadePipeline)>();
                if (line.GetValue(CompareOption) is { } other) compared.Add((other, new CascadePipeline(other, device, dtype)));
                compared.Add((model, operations.Cascade));
                report = new SrCleaningStudy(operations.Cascade, Console.Error).Run(all.Take(limit).ToList(), compared, commandLine, output);
                break;
            case "sr-windows":
                report = new WindowStudy(operations.Cascade, Console.Error).Run(Mixed(all, limit), commandLine, output);
                break;
            case "diffae":
                report = new StudyReport("DiffAE attribute manipulation", commandLine);
                var singles = all.Where(p => p.Scene.Objects.Count == 1).Skip(offset).Take(limit).ToList();
                var diffaeGrid = new List<TorchSharp.torch.Tensor>();
                var directions = directionKind switch
                {
                    "bundled" => AttributeDirections.Load(model),
                    "class-means" => new DiffAeStudy(operations, Console.Error).ClassMeans(400),
                    _ => throw new UsageException($"--directions \"{directionKind}\": choose bundled or class-means"),
                };
                report.Add(new DiffAeStudy(operations, Console.Error).Measure(singles, directions, [0, 0.5, 1.0, 1.5, 2.0], edit, diffaeGrid));
                using (var picture = Png.Grid(diffaeGrid.Select(g => TorchSharp.torch.nn.functional.interpolate(g.unsqueeze(0), new long[] { 128, 128 },
                    mode: TorchSharp.torch.InterpolationMode.Nearest)[0]).ToList(), 6))
                    File.WriteAllBytes(Path.Combine(output, "diffae.png"), Png.Encode(picture));
                foreach (var g in diffaeGrid) g.Dispose();
                report.Image("diffae.png", "Per scene: the render, the result at amount 1 and the edit's mask; colour changes first, then shape changes.");
                break;
            case "layout":
                report = new LayoutStudy(model, device, Console.Error).Run(probeScenes: 2000, heldOutScenes: 500, priorScenes: 100, decoderScenes: limit, commandLine);
                break;
            case "rerank":
                var sampling = new GenerationSpec { Prompt = "", Decoder64 = new SamplingOptions { Steps = steps } };
                report = new RerankStudy(operations.Cascade, clipImage, Console.Error).Run(all.Take(limit).ToList(), candidates, sampling, commandLine);
                break;
            case "layout-guide":
                report = new LayoutGuideStudy(operations.Cascade, Console.Error).Run(all.Take(limit).ToList(), shares,
                    new GenerationSpec { Prompt = "", Decoder64 = new SamplingOptions { Steps = steps } }, commandLine, output);
                break;
            case "segmentation":
                report = new StudyReport("Label-efficient segmentation from decoder features", commandLine);
                report.Add(new SegmentationStudy(operations.Cascade, Console.Error).Run(new SegmentationStudy.Options(labelled, HeldOut: limit, Steps: steps, Timesteps: [50, 150, 400], Blocks: [0, 1, 2, 3, 4, 5])));
                break;
            case "decoder-denoising":
                var rows = new DecoderDenoising(operations.Cascade, clipImage).Measure(all.Take(limit).ToList(), DecoderTimesteps);
                File.WriteAllText(Path.Combine(output, "decoder-denoising.json"), JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }) + "\n");
                var denoising = $"The 64 px decoder's one-step clean estimate from the exact render noised to t ({Math.Min(limit, all.Count)} prompts, "
                    + "conditioned on the render's CLIP embedding and the prompt, guidance 1):\n\n" + string.Join("\n", DecoderDenoising.Rows(rows)) + "\n";
                File.WriteAllText(Path.Combine(output, "decoder-denoising.md"), denoising);
                Console.WriteLine(denoising);
                return 0;
            case "oracle-prior":
                var runner = new ShapeBenchRunner(operations.Cascade, clipImage, Console.Error);
                var (bench, grid) = runner.Run(promptFile, all.Take(limit).ToList(), new GenerationSpec { Prompt = "" },
                    new ShapeBenchRunner.Options(RunSuperResolution: false, OraclePrior: true));
                using (grid) File.WriteAllBytes(Path.Combine(output, "oracle-prior.png"), Png.Encode(grid));
                File.WriteAllText(Path.Combine(output, "oracle-prior.md"), bench.ToMarkdown("oracle-prior.png"));
                Console.WriteLine(bench.ToMarkdown("oracle-prior.png"));
                return 0;
            default:
                throw new UsageException($"unknown study \"{which}\"");
        }
        report.Write(output, which);
        Console.WriteLine(report.ToMarkdown());
        return 0;
    }

    /// Where decoder-denoising measures: the shape is decided at the noisy end and must survive the middle.
    static readonly int[] DecoderTimesteps = [999, 900, 800, 700, 500, 300, 100];

    static double[] Shares(string text)
    {
        var shares = text.Split(',').Select(s => double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 0 && v <= 1 ? v
            : throw new UsageException($"--shares \"{s}\" is not a number from 0 to 1")).ToArray();
        return shares.Length is >= 1 and <= 10 ? shares : throw new UsageException($"--shares lists {shares.Length} values; give 1 to 10");
    }

    /// The first prompts of each object count in turn, so a short run covers 1, 2 and 3 objects.
    static List<BenchPrompt> Mixed(IReadOnlyList<BenchPrompt> all, int limit) =>
        all.GroupBy(p => p.Scene.Objects.Count).SelectMany(g => g.Select((p, i) => (p, i))).OrderBy(x => x.i).ThenBy(x => x.p.Scene.Objects.Count)
            .Select(x => x.p).Take(limit).ToList();
}
