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

    /// The same scene with one object recoloured to the first palette colour that is neither its own, another
    /// object's nor the background.
    public static Scene Recoloured(Scene scene, int index)
    {
        var used = scene.Objects.Select(o => o.Colour).Append(scene.Background).ToHashSet();
        var colour = Palette.Objects.Select(c => c.Name).First(c => !used.Contains(c));
        var objects = scene.Objects.Select((o, i) => i == index ? o with { Colour = colour } : o).ToList();
        return scene with { Objects = objects };
    }
}
