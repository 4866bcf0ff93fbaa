using System.CommandLine;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Weights;

namespace DiffusionCluster.Cli.Commands;

/// `export`: copies components (their whole folders) from one model folder to another and records them in the
/// target's model_index.json. `train` writes to a working folder; the bundled cascade changes only through this.
public static class ExportCommand
{
    public static Command Create()
    {
        var fromOption = CliOption.RequiredText("--from", "the model folder to copy from", "DIR");
        var toOption = CliOption.RequiredText("--to", "the model folder to copy into", "DIR");
        var componentsOption = CliOption.OptionalText("--components", "the components to copy (default: every component in --from's model_index.json)", "a,b,...");
        var defaultsOption = CliOption.Flag("--defaults", "also copy sampling.json (the sampling defaults tuned on them)");
        var command = new Command("export", "Copies components from one model folder into another and records them in its model_index.json. `train` writes to "
            + "work/shapes-cascade; `export --from work/shapes-cascade --to models/shapes-cascade` updates the bundle, and the reverse seeds a working "
            + "folder with the bundle's CLIP before `train prior`.") { fromOption, toOption, componentsOption, defaultsOption };
        command.SetAction(line => Run(line.GetValue(fromOption)!, line.GetValue(toOption)!, line.GetValue(componentsOption), line.GetValue(defaultsOption)));
        return command;
    }

    static int Run(string from, string to, string? listed, bool defaults)
    {
        if (Path.GetFullPath(from) == Path.GetFullPath(to)) throw new UsageException("--from and --to are the same folder");
        var source = ModelIndex.Read(from);
        var components = listed?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList()
                         ?? source.Components.Keys.ToList();
        if (components.Count == 0) throw new UsageException("--components lists none");
        foreach (var component in components)
            if (!source.Components.ContainsKey(component) || !Directory.Exists(Path.Combine(from, component)))
                throw new ArgumentException($"{from} has no component \"{component}\"; it has {string.Join(", ", source.Components.Keys)}");

        Directory.CreateDirectory(to);
        // The cascade's stage list travels with any export: it says how the folder's components run.
        var target = ModelIndex.ReadOrEmpty(to, source.ClassName) with { Stages = source.Stages };
        foreach (var component in components)
        {
            var destination = Path.Combine(to, component);
            // Written beside and swapped in, so a failed copy never leaves a half-written component.
            var staging = destination + ".export";
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            CopyFolder(Path.Combine(from, component), staging);
            if (Directory.Exists(destination)) Directory.Delete(destination, recursive: true);
            Directory.Move(staging, destination);
            target = target.With(component, source.Components[component]);
            Console.WriteLine($"exported {component}");
        }
        target.Write(to);
        if (defaults)
        {
            File.Copy(Path.Combine(from, SamplingDefaults.File), Path.Combine(to, SamplingDefaults.File), overwrite: true);
            Console.WriteLine($"exported {SamplingDefaults.File}");
        }
        return 0;
    }

    static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var folder in Directory.EnumerateDirectories(from)) CopyFolder(folder, Path.Combine(to, Path.GetFileName(folder)));
    }
}
