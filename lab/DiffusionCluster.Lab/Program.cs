using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Lab;

// The research lab: measurements that answered, or answer, questions about the cascade. The product's CLI
// (diffusion-cluster) generates, trains, evaluates and serves; this one studies.
const string Usage = $"""
    diffusion-lab <command> [options]

    {StudyCommand.Help}
    """;

DiffusionCluster.Diffusion.TorchRuntime.Initialise();

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
        "study" => StudyCommand.Run(arguments, "diffusion-lab " + string.Join(' ', args)),
        _ => throw new UsageException($"unknown command \"{args[0]}\""),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}\n\n{Usage}");
    return 2;
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or FileNotFoundException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
