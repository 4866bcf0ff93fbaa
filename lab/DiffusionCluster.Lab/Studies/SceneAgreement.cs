using DiffusionCluster.Shapes;

namespace DiffusionCluster.Lab.Studies;

/// How many of a scene's objects the parser finds in a picture with the same colour, shape and grid cell:
/// the "content kept" measure of the edit studies.
public static class SceneAgreement
{
    public static (int Objects, int Agreeing) Of(Scene scene, ParsedScene parsed)
    {
        int agreeing = scene.Objects.Count(o => parsed.Objects.Any(p => p.Colour == o.Colour && p.Shape == o.Shape && p.Position == o.Position));
        return (scene.Objects.Count, agreeing);
    }

    /// The same scene with one object recoloured to a palette colour that is neither its own, another object's nor the
    /// background: the pick-th such colour (wrapping), so a study's targets spread over the palette.
    public static Scene Recoloured(Scene scene, int index, int pick = 0)
    {
        var used = scene.Objects.Select(o => o.Colour).Append(scene.Background).ToHashSet();
        var free = Palette.Objects.Select(c => c.Name).Where(c => !used.Contains(c)).ToList();
        var colour = free[((pick % free.Count) + free.Count) % free.Count];
        var objects = scene.Objects.Select((o, i) => i == index ? o with { Colour = colour } : o).ToList();
        return scene with { Objects = objects };
    }

    /// Whether the parsed scene has the object (colour, shape and cell).
    public static bool Has(ParsedScene parsed, SceneObject o) =>
        parsed.Objects.Any(p => p.Colour == o.Colour && p.Shape == o.Shape && p.Position == o.Position);
}
