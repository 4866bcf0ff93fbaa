using System.Text.Json.Serialization;

namespace DiffusionCluster.Shapes;

/// One object a prompt asks for: each attribute the prompt names, null where it leaves the choice to the model.
public sealed record ObjectRequest(ShapeKind Shape, string? Colour = null, SizeClass? Size = null, Texture? Texture = null, Position? Position = null)
{
    public bool Accepts(SceneObject o) =>
        o.Shape == Shape && (Colour is null || o.Colour == Colour) && (Size is null || o.Size == Size)
        && (Texture is null || o.Texture == Texture) && (Position is null || o.Position == Position);

    [JsonIgnore]
    public string Description => string.Join(' ', new[] { Size?.ToString().ToLowerInvariant(), Texture?.ToString().ToLowerInvariant(), Colour, Shape.ToString().ToLowerInvariant() }.Where(w => w is not null));
}

/// What a prompt asks for and nothing more: its objects (a count makes copies), the relations it names between
/// them, and the background if it names one. Words the prompt reader did not know are kept to be reported.
public sealed record SceneRequest(
    IReadOnlyList<ObjectRequest> Objects,
    IReadOnlyList<Relation> Relations,
    string? Background = null,
    IReadOnlyList<string>? UnknownWords = null)
{
    [JsonIgnore]
    public IReadOnlyList<string> Unknown => UnknownWords ?? [];

    /// Whether a scene is one this prompt describes: exactly its objects (in some order), each with what the prompt
    /// named, the named relations between them and the named background.
    public bool Accepts(Scene scene) =>
        scene.Objects.Count == Objects.Count
        && (Background is null || scene.Background == Background)
        && Assignments(scene.Objects.Count).Any(order =>
            Objects.Select((want, i) => want.Accepts(scene.Objects[order[i]])).All(ok => ok)
            && Relations.All(r => r.Kind.Holds(scene.Objects[order[r.First]].Position, scene.Objects[order[r.Second]].Position)));

    /// Every order of n items (n is at most the world's few objects).
    public static IEnumerable<int[]> Assignments(int n)
    {
        if (n == 0)
        {
            yield return [];
            yield break;
        }
        foreach (var rest in Assignments(n - 1))
            for (int at = 0; at <= rest.Length; at++)
            {
                var order = new int[n];
                for (int i = 0, j = 0; i < n; i++) order[i] = i == at ? n - 1 : rest[j++];
                yield return order;
            }
    }
}
