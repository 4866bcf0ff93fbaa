using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Training.Studies;

namespace DiffusionCluster.Cli.Commands;

/// `segment fit`: label-efficient segmentation (Baranchuk et al.): trains the per-pixel classifier on N
/// labelled renders for each N, on decoder features and on raw pixels, reports mean IoU on held-out renders,
/// and saves the decoder-feature classifier of the largest N into the model folder (segmentation/).
public static class SegmentCommand
{
    public const string Help = """
          segment fit [--labelled 10,20,50] [--held-out N] [--steps N] [--timesteps 100,300] [--blocks 1,3,5] [--model DIR]
                [--device cpu|cuda[:N]] [--out DIR]
              trains the per-pixel classifier on decoder features and on raw pixels with each number of labelled renders,
              reports mean IoU on held-out renders, and saves the largest decoder-feature classifier into the model
              folder; `edit segment --image FILE` then returns a colour-coded mask
        """;

    public static int Run(Arguments args, string commandLine)
    {
        if (args.Positionals.FirstOrDefault() != "fit") throw new UsageException("segment needs a subcommand: fit");
        var labelled = args.Text("labelled", "10,20,50").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(n => int.TryParse(n, out var v) && v is >= 1 and <= 100_000 ? v : throw new UsageException($"--labelled: \"{n}\" is not a whole number from 1 to 100000"))
            .Distinct().Order().ToArray();
        int heldOut = args.Int("held-out", 50, 1, 100_000);
        int steps = args.Int("steps", 800, 1, 1_000_000);
        int[]? timesteps = List(args.Text("timesteps"), "timesteps");
        int[]? blocks = List(args.Text("blocks"), "blocks");
        var model = args.Text("model", "models/shapes-cascade");
        var device = DeviceOption.Parse(args.Text("device", "cpu"));
        var output = args.Text("out", "eval/segmentation");
        args.RejectUnknown();
        if (labelled.Length == 0) throw new UsageException("--labelled lists no counts");

        var study = new SegmentationStudy(new CascadePipeline(model, device), Console.Error);
        var (table, best) = study.Run(new SegmentationStudy.Options(labelled, heldOut, steps, Timesteps: timesteps, Blocks: blocks));
        best.Save(model);
        var report = new StudyReport("Label-efficient segmentation from decoder features", commandLine);
        report.Add(table);
        report.Write(output, "segmentation");
        Console.WriteLine(report.ToMarkdown());
        Console.WriteLine($"saved the {labelled.Max()}-image decoder-feature classifier to {model}/segmentation");
        return 0;
    }

    static int[]? List(string? text, string name) => text?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        .Select(n => int.TryParse(n, out var v) && v >= 0 ? v : throw new UsageException($"--{name}: \"{n}\" is not a whole number >= 0")).ToArray();
}
