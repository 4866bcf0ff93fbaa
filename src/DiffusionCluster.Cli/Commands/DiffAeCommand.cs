using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Training.Studies;

namespace DiffusionCluster.Cli.Commands;

/// `diffae fit`: fits the DiffAE attribute directions (one linear classifier per colour and shape in z_i)
/// on labelled renders, writes them beside the cascade (attributes/directions.safetensors) and a report.
public static class DiffAeCommand
{
    public const string Help = """
          diffae fit [--train N] [--held-out N] [--model DIR] [--device cpu|cuda[:N]] [--out DIR]
              fits one attribute direction per colour and shape (logistic regression in the CLIP image embedding of N
              labelled training renders), saves them into the model folder, and reports held-out accuracy;
              `edit attribute` and `study diffae` use them
        """;

    public static int Run(Arguments args, string commandLine)
    {
        if (args.Positionals.FirstOrDefault() != "fit") throw new UsageException("diffae needs a subcommand: fit");
        int train = args.Int("train", 400, 20, 100_000);
        int heldOut = args.Int("held-out", 200, 10, 100_000);
        var model = args.Text("model", "models/shapes-cascade");
        var device = DeviceOption.Parse(args.Text("device", "cpu"));
        var output = args.Text("out", "eval/diffae");
        args.RejectUnknown();

        var operations = new ImageOperations(new CascadePipeline(model, device));
        var (directions, table) = new DiffAeStudy(operations, Console.Error).Fit(train, heldOut);
        directions.Save(model);
        var report = new StudyReport("DiffAE attribute directions", commandLine);
        report.Add(table);
        report.Write(output, "directions");
        Console.WriteLine(report.ToMarkdown());
        Console.WriteLine($"wrote {AttributeDirections.PathIn(model)} ({directions.Names.Count} attributes)");
        return 0;
    }
}
