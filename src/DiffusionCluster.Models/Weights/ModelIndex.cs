using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Configs;

namespace DiffusionCluster.Models.Weights;

/// model_index.json at the top of a model folder, as in diffusers: the pipeline's class name, per component the
/// library and class that load it (each listed component has its own folder), and "_stages": the cascade's
/// stages in running order ({"stage", "component", "kind", "size"}), which every runner of the folder walks.
public sealed record ModelIndex(string ClassName, IReadOnlyDictionary<string, string> Components)
{
    public const string FileName = "model_index.json";
    public const string Library = "DiffusionCluster";
    const string StagesKey = "_stages";

    /// The cascade's stages; empty in an index that lists none (a folder being filled by training).
    public IReadOnlyList<StageDescriptor> Stages { get; init; } = [];

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
        return new ModelIndex(className, components) { Stages = ReadStages(root, path) };
    }

    static IReadOnlyList<StageDescriptor> ReadStages(JsonObject root, string path)
    {
        if (root[StagesKey] is not JsonArray list) return [];
        try
        {
            return list.Select(node => node is JsonObject o
                ? new StageDescriptor(
                    CascadeStages.Parse(o["stage"]?.GetValue<string>() ?? throw new ArgumentException("a stage has no \"stage\"")),
                    o["component"]?.GetValue<string>() ?? throw new ArgumentException("a stage has no \"component\""),
                    Enum.TryParse<StageKind>(o["kind"]?.GetValue<string>(), ignoreCase: true, out var kind) ? kind
                        : throw new ArgumentException($"stage kind \"{o["kind"]}\" is not one of {string.Join(", ", Enum.GetNames<StageKind>().Select(n => n.ToLowerInvariant()))}"),
                    o["size"]?.GetValue<int>() ?? 0)
                : throw new ArgumentException("each entry is an object")).ToList();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new ModelFormatException(path, $"{StagesKey}: {e.Message}");
        }
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
        return new ModelIndex(root["_class_name"]?.GetValue<string>() ?? className, components) { Stages = ReadStages(root, path) };
    }

    public ModelIndex With(string component, string className) =>
        this with { Components = new Dictionary<string, string>(Components) { [component] = className } };

    public void Write(string modelFolder)
    {
        Directory.CreateDirectory(modelFolder);
        var root = new JsonObject { ["_class_name"] = ClassName };
        if (Stages.Count > 0)
            root[StagesKey] = new JsonArray(Stages.Select(d =>
            {
                var o = new JsonObject { ["stage"] = d.Stage.Name(), ["component"] = d.Component, ["kind"] = d.Kind.ToString().ToLowerInvariant() };
                if (d.Size > 0) o["size"] = d.Size;
                return (JsonNode)o;
            }).ToArray());
        foreach (var (name, cls) in Components.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            root[name] = new JsonArray(Library, cls);
        File.WriteAllText(Path.Combine(modelFolder, FileName), root.ToJsonString(ConfigJson.Options) + "\n");
    }
}
