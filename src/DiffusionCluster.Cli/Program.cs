using DiffusionCluster.Cli.Commands;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models.Configs;

const string Usage = """
    diffusion-cluster <command> [options]

      bench networks [--device cpu|cuda[:N]] [--runs N] [--out FILE.json]
          forward time and parameter count of each default network at batch 1 and 8,
          and peak memory of the 1024x1024 super-resolution forward
    """;

DiffusionCluster.Models.TorchRuntime.Initialise();

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

try
{
    var arguments = new Arguments(args.Skip(1));
    return args[0] switch
    {
        "bench" => BenchCommand.Run(arguments),
        _ => throw new UsageException($"unknown command \"{args[0]}\""),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}\n\n{Usage}");
    return 2;
}
catch (Exception e) when (e is ArgumentException or ModelFormatException or InvalidOperationException or FileNotFoundException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
