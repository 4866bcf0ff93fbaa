using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Imaging;

namespace DiffusionCluster.Cli.Commands;

/// `generate "<prompt>"`: runs the whole cascade in this process on the bundled models and writes a PNG.
public static class GenerateCommand
{
    public static int Run(Arguments args)
    {
        var prompt = args.Positionals.FirstOrDefault() ?? throw new UsageException("generate needs a prompt in quotes");
        var model = args.Text("model", "models/shapes-cascade");
        var device = DeviceOption.Parse(args.Text("device", "cpu"));
        var output = args.Text("out", "image.png");
        var request = StageOptions.Request(args, prompt);
        args.RejectUnknown();

        var pipeline = new CascadePipeline(model, device);
        string? current = null;
        var (image, timings) = pipeline.Generate(request, (stage, done, total) =>
        {
            if (stage != current && current is not null) Console.Error.WriteLine();
            current = stage;
            Console.Error.Write($"\r{stage,-10} step {done}/{total}");
        });
        Console.Error.WriteLine();
        using (image)
            File.WriteAllBytes(output, Png.Encode(image));

        Console.WriteLine($"{"stage",-14}{"time",12}");
        foreach (var t in timings) Console.WriteLine($"{t.Stage,-14}{t.Milliseconds,10:F0} ms");
        Console.WriteLine($"{"total",-14}{timings.Sum(t => t.Milliseconds),10:F0} ms");
        Console.WriteLine($"wrote {output} ({request.Size}x{request.Size}, seed {request.Seed})");
        return 0;
    }
}
