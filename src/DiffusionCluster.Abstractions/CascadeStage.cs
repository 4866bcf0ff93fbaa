namespace DiffusionCluster.Abstractions;

/// A stage of the cascade: what a silo hosts, a pool scales and a span names. Its name is the member's name in
/// lower case ("decoder64"), the one spelling used in model folders, configuration, the CLI, HTTP and telemetry.
/// Which stages a model runs, in which order and from which component, is the model folder's
/// CascadeDefinition (model_index.json "_stages").
[GenerateSerializer, Alias("DiffusionCluster.CascadeStage")]
public enum CascadeStage
{
    Text,
    Prior,
    Decoder64,
    Sr256,
    Sr1024,
}

public static class CascadeStages
{
    public static readonly CascadeStage[] All = Enum.GetValues<CascadeStage>();

    /// The name used in configuration, CLI options and telemetry.
    public static string Name(this CascadeStage stage) =>
        Enum.IsDefined(stage) ? stage.ToString().ToLowerInvariant() : throw new ArgumentOutOfRangeException(nameof(stage));

    public static CascadeStage Parse(string name)
    {
        foreach (var stage in All)
            if (stage.Name() == name.Trim().ToLowerInvariant()) return stage;
        throw new ArgumentException($"unknown stage \"{name}\"; stages are {string.Join(", ", All.Select(Name))}");
    }

    /// "text,prior" or "all" -> stages; duplicates are an error, so a typo never hides.
    public static IReadOnlyList<CascadeStage> ParseList(string list)
    {
        if (list.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return All;
        var stages = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).ToList();
        if (stages.Count == 0) throw new ArgumentException($"stage list \"{list}\" is empty; name at least one of {string.Join(", ", All.Select(Name))} or \"all\"");
        var repeated = stages.GroupBy(s => s).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null) throw new ArgumentException($"stage \"{repeated.Key.Name()}\" is listed twice in \"{list}\"");
        return stages;
    }
}
