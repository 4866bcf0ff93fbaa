using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffusionCluster.Models.Configs;

/// config.json files: snake_case like diffusers, and unknown keys rejected so a typo fails loudly.
public static class ConfigJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static T Read<T>(string path) where T : INetworkConfig
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file is missing");
        T? config;
        try
        {
            config = JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"is not a valid {typeof(T).Name}: {e.Message}");
        }
        if (config is null) throw new ModelFormatException(path, "is empty");
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(path, e.Message);
        }
        return config;
    }

    public static void Write<T>(string path, T config) where T : INetworkConfig =>
        File.WriteAllText(path, JsonSerializer.Serialize(config, Options) + "\n");
}

/// A network's size and shape, as stored in its component's config.json.
public interface INetworkConfig
{
    /// Throws ArgumentException naming the field and its allowed range.
    void Validate();
}

/// A model folder that does not match what the code expects; the message names the file.
public sealed class ModelFormatException(string path, string problem) : Exception($"{path}: {problem}")
{
    public string Path { get; } = path;
}
