using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace DiffusionCluster.Cli.Infrastructure;

/// The kinds of option the commands take, declared once: each checks its value while the line is parsed and
/// refuses a bad one naming the option, the value and the limit, before any command runs.
public static class CliOption
{
    public static Option<int> Int(string name, string description, int fallback, int min, int max, string helpName = "N") =>
        new(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => fallback, CustomParser = r => ParseInt(r, min, max) ?? fallback };

    /// Unset unless given: the command (or the model folder) decides what leaving it out means.
    public static Option<int?> OptionalInt(string name, string description, int min, int max, string helpName = "N") =>
        new(name) { Description = description, HelpName = helpName, CustomParser = r => ParseInt(r, min, max) };

    public static Option<double> Double(string name, string description, double fallback, double min, double max, string helpName = "X") =>
        new(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => fallback, CustomParser = r => ParseDouble(r, min, max) ?? fallback };

    public static Option<double?> OptionalDouble(string name, string description, double min, double max, string helpName = "X") =>
        new(name) { Description = description, HelpName = helpName, CustomParser = r => ParseDouble(r, min, max) };

    public static Option<string> Text(string name, string description, string fallback, string helpName = "TEXT") =>
        new(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => fallback };

    public static Option<string?> OptionalText(string name, string description, string helpName = "TEXT") =>
        new(name) { Description = description, HelpName = helpName };

    public static Option<string> RequiredText(string name, string description, string helpName = "TEXT") =>
        new(name) { Description = description, HelpName = helpName, Required = true };

    /// A file the command writes when its work is done: the folder is checked while the line is parsed, so a mistyped
    /// folder costs no compute. Unset without a fallback.
    public static Option<string?> OutputFile(string name, string description, string? fallback, string helpName)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = helpName };
        if (fallback is not null) option.DefaultValueFactory = _ => fallback;
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } path && Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder && !Directory.Exists(folder))
                result.AddError($"{name} {path}: the folder {folder} does not exist; create it or write elsewhere");
        });
        return option;
    }

    /// The model folder (the bundled cascade unless another fallback is given).
    public static Option<string> Model(string description = "the model folder", string? fallback = null) =>
        Text("--model", description, fallback ?? Models.Cascade.CascadeFolder.Bundled, "DIR");

    public static Option<string> Device(string description = "cpu or cuda[:N]") => Text("--device", description, "cpu", "DEVICE");

    public static Option<string> Precision(string description = "fp32, fp16 or bf16") => Text("--precision", description, "fp32", "PRECISION");

    public static Option<int> Threads(string description = "compute threads, 0 for the machine's cores") => Int("--threads", description, 0, 0, 1024);

    /// Given or not; no value.
    public static Option<bool> Flag(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// A comma-separated list of whole numbers ("1,2,4"), each from min to max; at least one.
    public static Option<int[]> Ints(string name, string description, string fallback, int min, int max) =>
        new(name)
        {
            Description = description, HelpName = "N,N,...", Arity = ArgumentArity.ExactlyOne,
            DefaultValueFactory = _ => ParseInts(name, fallback, min, max, error: null),
            CustomParser = r => ParseInts(name, r.Tokens.Count == 0 ? fallback : r.Tokens[0].Value, min, max, r.AddError),
        };

    static int? ParseInt(ArgumentResult result, int min, int max)
    {
        if (result.Tokens.Count == 0) return null;
        var text = result.Tokens[0].Value;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        result.AddError($"{Name(result)} {text}: must be a whole number from {min} to {max}");
        return null;
    }

    static double? ParseDouble(ArgumentResult result, double min, double max)
    {
        if (result.Tokens.Count == 0) return null;
        var text = result.Tokens[0].Value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        result.AddError(string.Create(CultureInfo.InvariantCulture, $"{Name(result)} {text}: must be a number from {min} to {max}"));
        return null;
    }

    static int[] ParseInts(string name, string text, int min, int max, Action<string>? error)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var part in parts)
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            {
                error?.Invoke($"{name}: \"{part}\" is not a whole number from {min} to {max}");
                return [];
            }
        if (parts.Length == 0) error?.Invoke($"{name} lists no numbers");
        return parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }

    static string Name(ArgumentResult result) => result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;

    /// Whether the command line named the option (rather than leaving it to its default).
    public static bool Given(this ParseResult line, Option option) => line.GetResult(option) is { Implicit: false };
}
