namespace DiffusionCluster.Abstractions;

/// The five stages of the cascade, in the order a request runs them.
[GenerateSerializer, Alias("DiffusionCluster.CascadeStage")]
public enum CascadeStage
{
    TextEncoder,
    Prior,
    Decoder64,
    Sr256,
    Sr1024,
}

public static class CascadeStages
{
    public static readonly CascadeStage[] All = Enum.GetValues<CascadeStage>();

    /// The name used in configuration, CLI options and telemetry.
    public static string Name(this CascadeStage stage) => stage switch
    {
        CascadeStage.TextEncoder => "text",
        CascadeStage.Prior => "prior",
        CascadeStage.Decoder64 => "decoder64",
        CascadeStage.Sr256 => "sr256",
        CascadeStage.Sr1024 => "sr1024",
        _ => throw new ArgumentOutOfRangeException(nameof(stage)),
    };

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

    /// The stages a request of this image size runs.
    public static IReadOnlyList<CascadeStage> For(int size) => size switch
    {
        64 => [CascadeStage.TextEncoder, CascadeStage.Prior, CascadeStage.Decoder64],
        256 => [CascadeStage.TextEncoder, CascadeStage.Prior, CascadeStage.Decoder64, CascadeStage.Sr256],
        1024 => All,
        _ => throw new ArgumentException($"size {size} is not supported; choose 64, 256 or 1024"),
    };
}
