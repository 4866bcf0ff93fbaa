namespace DiffusionCluster.Shapes;

/// What a cascade was trained to draw: which colours its objects and backgrounds take, how many objects a scene
/// holds, and whether two objects may share a colour. A model folder records its world (composer/config.json), so a
/// prompt asking for more than the bundled models know is refused by name instead of drawn wrong.
public sealed record World(IReadOnlyList<string> ObjectColours, IReadOnlyList<string> Backgrounds, int MaxObjects, bool RepeatedColours)
{
    /// The scenes SceneGenerator draws: eight object colours, four neutral backgrounds, 1-3 objects of distinct colours.
    public static readonly World Shapes = new(
        Palette.Objects.Select(c => c.Name).ToList(), Palette.Backgrounds.Select(c => c.Name).ToList(), 3, RepeatedColours: false);

    public void Validate()
    {
        if (MaxObjects is < 1 or > 9) throw new ArgumentException($"max_objects is {MaxObjects}; a scene holds 1 to 9 objects (one per grid cell)");
        if (ObjectColours.Count == 0 || Backgrounds.Count == 0) throw new ArgumentException("a world needs at least one object colour and one background");
        foreach (var name in ObjectColours.Concat(Backgrounds)) Palette.Colour(name);
    }
}
