using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionCluster.Models.Configs;

namespace DiffusionCluster.Models.Weights;

/// model_index.json at the top of a model folder, as in diffusers: the pipeline's class name and, per
/// component, the library and class that load it. Each listed component must have its own folder.
public sealed record ModelIndex(string ClassName, IReadOnlyDictionary<string, string> Components)
{
    public const string FileName = "model_index.json";
    public const string Library = "DiffusionCluster";

    public static ModelIndex Read(string modelFolder)
    {
        var path = Path.Combine(modelFolder, FileName);
        if (!File.Exists(path)) throw new ModelFormatException(path, "file is missing; is this a model folder?");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new JsonException("empty");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new ModelFormatException(path, $"is not valid JSON: {e.Message}");
        }
        var className = root["_class_name"]?.GetValue<string>() ?? throw new ModelFormatException(path, "has no _class_name");
        var components = new Dictionary<string, string>();
        foreach (var (name, node) in root)
        {
            if (name.StartsWith('_')) continue;
            if (node is not JsonArray { Count: 2 } pair)
                throw new ModelFormatException(path, $"component {name} must be [library, class]");
            components[name] = pair[1]!.GetValue<string>();
            if (!Directory.Exists(Path.Combine(modelFolder, name)))
                throw new ModelFormatException(Path.Combine(modelFolder, name), $"component folder listed in {FileName} is missing");
        }
        return new ModelIndex(className, components);
    }

    /// The index as it stands on disk without checking component folders, or an empty one; for writers
    /// that add components one at a time (training).
    public static ModelIndex ReadOrEmpty(string modelFolder, string className)
    {
        var path = Path.Combine(modelFolder, FileName);
        if (!File.Exists(path)) return new ModelIndex(className, new Dictionary<string, string>());
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var components = root.Where(kv => !kv.Key.StartsWith('_') && kv.Value is JsonArray { Count: 2 })
            .ToDictionary(kv => kv.Key, kv => kv.Value![1]!.GetValue<string>());
        return new ModelIndex(root["_class_name"]?.GetValue<string>() ?? className, components);
    }

    public ModelIndex With(string component, string className) =>
        this with { Components = new Dictionary<string, string>(Components) { [component] = className } };

    public void Write(string modelFolder)
    {
        Directory.CreateDirectory(modelFolder);
        var root = new JsonObject { ["_class_name"] = ClassName };
        foreach (var (name, cls) in Components.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            root[name] = new JsonArray(Library, cls);
        File.WriteAllText(Path.Combine(modelFolder, FileName), root.ToJsonString(ConfigJson.Options) + "\n");
    }
}
