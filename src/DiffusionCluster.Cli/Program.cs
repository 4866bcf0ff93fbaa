using System.CommandLine;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Commands;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models.Configs;

DiffusionCluster.Diffusion.TorchRuntime.Initialise();

var root = new RootCommand("Serves a cascade of text-to-image diffusion models (text encoder, prior, 64 px base, 256 px and 1024 px super-resolution) "
    + "on an Orleans cluster, and trains, evaluates, benchmarks and plans it. `diffusion-cluster COMMAND --help` lists a command's options.")
{
    GenerateCommand.Create(), EditCommand.Create(), TrainCommand.Create(), EvalCommand.Create(), ExportCommand.Create(), ClusterCommand.Create(),
    BenchCommand.Create(), PlanCommand.Create(),
};
return await CliProgram.Run(root, "diffusion-cluster", args, cause => cause is ArgumentException or ModelFormatException or InvalidOperationException
    or FileNotFoundException or DirectoryNotFoundException or StageOverloadedException or OperationCanceledException or TimeoutException
    or Npgsql.NpgsqlException or IOException);
