using System.Text.Json;
using System.Text.Json.Serialization;
using DiffusionCluster.Shapes;

namespace DiffusionCluster.Training.Evaluation;

/// One ShapeBench prompt: the caption, the scene it describes, and (for relation captions) the relation.
public sealed record BenchPrompt(int Id, string Prompt, Scene Scene, Relation? Relation)
{
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    [JsonIgnore]
    public Caption Caption => new(Prompt, Scene, Relation);

    /// The dev set: held-out compositions only (never seen in training), a fixed mix of 1, 2 and 3 objects.
    public static List<BenchPrompt> DevSet(int singles = 40, int pairs = 40, int triples = 20)
    {
        var prompts = new List<BenchPrompt>();
        int seed = 1_000_000;
        foreach (var (count, n) in new[] { (1, singles), (2, pairs), (3, triples) })
            for (int i = 0; i < n; i++, seed++)
            {
                var caption = Captioner.Describe(SceneGenerator.Sample(seed, Split.HeldOut, count), new Random(seed));
                prompts.Add(new BenchPrompt(prompts.Count, caption.Text, caption.Scene, caption.Relation));
            }
        return prompts;
    }

    /// The prompts whose scene has `objects` objects (all of them for 0), in file order.
    public static IEnumerable<BenchPrompt> WithObjects(IEnumerable<BenchPrompt> prompts, int objects) =>
        objects == 0 ? prompts : prompts.Where(p => p.Scene.Objects.Count == objects);

    /// The first `limit` prompts of a file with `objects` objects (0: any), at least two of them; `user` names who
    /// needs them in the error.
    public static List<BenchPrompt> ReadAtLeastTwo(string path, int objects, string user, int limit = int.MaxValue)
    {
        var prompts = WithObjects(Read(path), objects).Take(limit).ToList();
        if (prompts.Count < 2)
            throw new ArgumentException($"{path} has {prompts.Count} prompt(s){(objects == 0 ? "" : $" with {objects} object(s)")}; {user} needs at least 2");
        return prompts;
    }

    public static void Write(string path, IEnumerable<BenchPrompt> prompts) =>
        File.WriteAllLines(path, prompts.Select(p => JsonSerializer.Serialize(p, Json)));

    public static List<BenchPrompt> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"prompt file {path} does not exist");
        return File.ReadLines(path).Where(l => l.Trim().Length > 0).Select((line, i) =>
        {
            try
            {
                var prompt = JsonSerializer.Deserialize<BenchPrompt>(line, Json) ?? throw new JsonException("empty line");
                prompt.Scene.Validate();
                return prompt;
            }
            catch (Exception e) when (e is JsonException or ArgumentException)
            {
                throw new ArgumentException($"{path} line {i + 1}: {e.Message}");
            }
        }).ToList();
    }
}
