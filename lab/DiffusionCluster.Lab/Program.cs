using System.CommandLine;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Lab;

// The research lab: measurements that answered, or answer, questions about the cascade. The product's CLI
// (diffusion-cluster) generates, trains, evaluates and serves; this one studies.
DiffusionCluster.Diffusion.TorchRuntime.Initialise();

var root = new RootCommand("The research lab: measurements that answered, or answer, questions about the cascade.")
{
    StudyCommand.Create("diffusion-lab " + string.Join(' ', args)),
};
return await CliProgram.Run(root, "diffusion-lab", args, cause => cause is ArgumentException or InvalidOperationException or FileNotFoundException);
