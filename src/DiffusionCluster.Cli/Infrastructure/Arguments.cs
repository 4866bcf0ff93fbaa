using System.Globalization;

namespace DiffusionCluster.Cli.Infrastructure;

/// A command line of positionals and --name value / --flag options. Every option must be read by the
/// command; leftovers are reported as unknown, so a typo never passes silently.
public sealed class Arguments
{
    readonly List<string> _positionals = new();
    readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public Arguments(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            if (!list[i].StartsWith("--", StringComparison.Ordinal)) { _positionals.Add(list[i]); continue; }
            var name = list[i][2..];
            var eq = name.IndexOf('=');
            if (eq >= 0) _options[name[..eq]] = name[(eq + 1)..];
            else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal)) _options[name] = list[++i];
            else _options[name] = null;
        }
    }

    public IReadOnlyList<string> Positionals => _positionals;

    public bool WasGiven(string name) => _options.ContainsKey(name);

    public string? Text(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var value) ? value ?? throw new UsageException($"--{name} needs a value") : null;
    }

    public string Text(string name, string fallback) => Text(name) ?? fallback;

    public bool Flag(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var value) && (value is null || value == "true");
    }

    public int Int(string name, int fallback, int min, int max)
    {
        var text = Text(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new UsageException($"--{name} {text}: must be a whole number from {min} to {max}");
        return value;
    }

    /// A comma-separated list of whole numbers ("1,2,4"), each from min to max; at least one.
    public int[] Ints(string name, string fallback, int min, int max)
    {
        var values = Text(name, fallback).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(n => int.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                ? v : throw new UsageException($"--{name}: \"{n}\" is not a whole number from {min} to {max}")).ToArray();
        return values.Length > 0 ? values : throw new UsageException($"--{name} lists no numbers");
    }

    public double Double(string name, double fallback, double min, double max)
    {
        var text = Text(name);
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new UsageException($"--{name} {text}: must be a number from {min} to {max}");
        return value;
    }

    /// Call after reading every option a command knows.
    public void RejectUnknown()
    {
        var unknown = _options.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new UsageException($"unknown option {string.Join(", ", unknown.Select(u => Shapes.Spelling.Closest(u, _read) is { } near ? $"--{u} (did you mean --{near}?)" : $"--{u}"))}");
    }
}

/// A mistake in how the command was called; printed with the usage, exit code 2.
public sealed class UsageException(string message) : Exception(message);
