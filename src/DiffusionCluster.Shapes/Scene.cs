using System.Text.Json.Serialization;

namespace DiffusionCluster.Shapes;

public sealed record SceneObject(ShapeKind Shape, string Colour, SizeClass Size, Position Position, Texture Texture = Texture.Plain);

/// A scene of objects on a plain background; objects stand in distinct grid cells, so they never overlap.
public sealed record Scene(string Background, IReadOnlyList<SceneObject> Objects)
{
    [JsonIgnore]
    public string Summary => $"{Background}: " + string.Join("; ", Objects.Select(o => $"{o.Size} {o.Colour} {o.Shape} {o.Position} {o.Texture}"));

    public void Validate()
    {
        Palette.Colour(Background);
        if (Objects.Count is < 1 or > 9) throw new ArgumentException($"a scene has 1 to 9 objects (one per grid cell); this one has {Objects.Count}");
        foreach (var o in Objects)
        {
            Palette.Colour(o.Colour);
            if (o.Colour == Background) throw new ArgumentException($"a {o.Colour} {o.Shape} on a {Background} background would not show");
        }
        if (Objects.Select(o => o.Position).Distinct().Count() != Objects.Count)
            throw new ArgumentException("two objects share a grid cell");
    }
}
