using DiffusionCluster.Models.Cascade;
using System.Globalization;
using System.CommandLine;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Grains.Capacity;

namespace DiffusionCluster.Cli.Commands;

/// `plan --target <images/s> --size 1024 --profile FILE [--pools NAME=STAGE,STAGE;...]`: replicas and batching per
/// stage, with the arithmetic, folded into the chart's pools (a stage no pool names is its own pool) and written as
/// Helm values.
public static class PlanCommand
{
    public static Command Create()
    {
        var targetOption = CliOption.OptionalDouble("--target", "images per second the cluster must carry", 1e-6, 1e6, "IMAGES_PER_S");
        targetOption.Required = true;
        var sizeOption = CliOption.Int("--size", "the image side the requests ask for: 64, 256 or 1024", 1024, 64, 1024, "PIXELS");
        var profileOption = CliOption.RequiredText("--profile", "the stage profile (written by `bench stages`)", "FILE.json");
        var utilisationOption = CliOption.Double("--utilisation", "the busy share each replica is sized for", 0.7, 0.01, 1, "U");
        var outputOption = CliOption.OutputFile("--out", "the Helm values to write", "values-capacity.yaml", "FILE.yaml");
        var modelOption = CliOption.Model("the model folder (its stages)");
        var poolsOption = CliOption.OptionalText("--pools", "pools hosting several stages, sized for their combined work (e.g. decoder64=text,prior,decoder64 as "
            + "the GPU example); a stage no pool names gets a pool of its own", "NAME=STAGE,STAGE;...");
        var command = new Command("plan", "Replicas and batching limits per stage (each pool simulated from Little's law's bound upwards on the measured times), "
            + "with the arithmetic, written as Helm values for the chart's pools.") { targetOption, sizeOption, profileOption, utilisationOption, outputOption, modelOption, poolsOption };
        command.SetAction(line => Run(line.GetValue(targetOption)!.Value, line.GetValue(sizeOption), line.GetValue(profileOption)!, line.GetValue(utilisationOption),
            line.GetValue(outputOption)!, line.GetValue(modelOption)!, line.GetValue(poolsOption)));
        return command;
    }

    static int Run(double target, int size, string profileFile, double utilisation, string output, string model, string? poolsText)
    {
        var profile = StageProfile.Read(profileFile);
        var plans = CapacityPlanner.Plan(profile, CascadeFolder.Definition(model), target, size, utilisation);
        var pools = PoolPlanner.Fold(plans, poolsText is null ? new Dictionary<string, IReadOnlyList<Abstractions.CascadeStage>>() : PoolPlanner.Parse(poolsText),
            profile, plans.ToDictionary(p => p.Stage, _ => target), utilisation);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"target {target} images/s of {size} px, utilisation {utilisation:0.##}, profile {profileFile} ({profile.Device}, {profile.Machine})"));
        foreach (var plan in plans) Console.WriteLine(plan.Arithmetic);
        foreach (var pool in pools.Where(p => p.Stages.Count > 1)) Console.WriteLine(pool.Arithmetic);
        Console.WriteLine($"replicas in all: {pools.Sum(p => p.Replicas)}");
        var command = string.Create(CultureInfo.InvariantCulture,
            $"diffusion-cluster plan --target {target} --size {size} --utilisation {utilisation} --profile {Path.GetFileName(profileFile)}");
        File.WriteAllText(output, CapacityPlanner.HelmValues(pools, command + (poolsText is null ? "" : $" --pools \"{poolsText}\"")));
        Console.WriteLine($"wrote {output}");
        return 0;
    }
}
