using System.Text.Json;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Configs;

namespace DiffusionCluster.Models.Cascade;

/// A model folder's sampling defaults (sampling.json: one entry per diffusion component, keyed by its folder name),
/// which is where values tuned on the folder's weights live: a request's unset options take them. A component
/// without an entry, or an entry without a field, samples with Untuned.
public sealed class SamplingDefaults
{
    public const string File = "sampling.json";

    /// What a folder that names no default gets: 50 DDIM steps, no guidance, no thresholding, no augmentation,
    /// no layout guide. Nothing here was tuned on any weights.
    public static SamplingOptions Untuned { get; } = new(Steps: 50, Guidance: 1, Thresholding: "none", Eta: 0, AugmentationLevel: 0, Layout: 0,
        Solver: SamplingOptions.Ddim);

    readonly IReadOnlyDictionary<string, SamplingOptions> _components;

    public SamplingDefaults(IReadOnlyDictionary<string, SamplingOptions> components) => _components = components;

    /// The defaults of one component, complete.
    public SamplingOptions For(string component) =>
        _components.TryGetValue(component, out var options) ? options.Over(Untuned) : Untuned;

    public static SamplingDefaults Load(string modelFolder)
    {
        var path = Path.Combine(modelFolder, File);
        if (!System.IO.File.Exists(path)) return new SamplingDefaults(new Dictionary<string, SamplingOptions>());
        try
        {
            var components = JsonSerializer.Deserialize<Dictionary<string, SamplingOptions>>(System.IO.File.ReadAllText(path), ConfigJson.Options)
                ?? throw new ModelFormatException(path, "is empty");
            foreach (var (component, options) in components) options.Validate($"{File}: {component}");
            return new SamplingDefaults(components);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new ModelFormatException(path, $"is not valid sampling defaults: {e.Message}");
        }
    }

    public static void Save(string modelFolder, IReadOnlyDictionary<string, SamplingOptions> components) =>
        System.IO.File.WriteAllText(Path.Combine(modelFolder, File), JsonSerializer.Serialize(components, ConfigJson.Options) + "\n");
}
