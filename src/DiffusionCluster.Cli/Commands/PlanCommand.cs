using DiffusionCluster.Models.Cascade;
using System.Globalization;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Grains.Capacity;

namespace DiffusionCluster.Cli.Commands;

/// `plan --target <images/s> --size 1024 --profile FILE [--pools NAME=STAGE,STAGE;...]`: replicas and batching per
/// stage, with the arithmetic, folded into the chart's pools (a stage no pool names is its own pool) and written as
/// Helm values.
public static class PlanCommand
{
    public static int Run(Arguments args)
    {
        var target = args.Double("target", double.NaN, 1e-6, 1e6);
        if (double.IsNaN(target)) throw new UsageException("plan needs --target <images per second>");
        int size = args.Int("size", 1024, 64, 1024);
        var profileFile = args.Text("profile") ?? throw new UsageException("plan needs --profile FILE (written by `bench stages`)");
        var utilisation = args.Double("utilisation", 0.7, 0.01, 1);
        var output = args.Text("out", "values-capacity.yaml");
        var model = args.Text("model", CascadeFolder.Bundled);
        var poolsText = args.Text("pools");
        args.RejectUnknown();

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
