namespace DiffusionCluster.Shapes;

public enum Split { Train, HeldOut }

/// Draws scenes deterministically from a seed. Some colour-shape-position combinations are held out: they never
/// appear in a training scene, so ShapeBench can test composition the models never saw.
public static class SceneGenerator
{
    /// About one combination in nine is held out; every colour, shape and position still occurs in training.
    public static bool IsHeldOut(string colour, ShapeKind shape, Position position)
    {
        int c = Array.FindIndex(Palette.Objects, o => o.Name == colour);
        return (c + 2 * (int)shape + 3 * (int)position) % 9 == 0;
    }

    public static bool IsHeldOut(SceneObject o) => IsHeldOut(o.Colour, o.Shape, o.Position);

    public static Scene Sample(int seed, Split split, int? objectCount = null)
    {
        var random = new Random(seed);
        while (true)
        {
            var scene = Draw(random, objectCount);
            bool heldOut = scene.Objects.Any(IsHeldOut);
            if (heldOut == (split == Split.HeldOut)) return scene;
        }
    }

    static Scene Draw(Random random, int? objectCount)
    {
        int count = objectCount ?? random.NextDouble() switch { < 0.4 => 1, < 0.75 => 2, _ => 3 };
        var positions = Enum.GetValues<Position>().OrderBy(_ => random.Next()).Take(count).ToArray();
        var colours = Palette.Objects.OrderBy(_ => random.Next()).Take(count).ToArray();
        var objects = new List<SceneObject>();
        for (int i = 0; i < count; i++)
        {
            var texture = random.NextDouble() switch { < 0.6 => Texture.Plain, < 0.8 => Texture.Stripes, _ => Texture.Dots };
            objects.Add(new SceneObject(
                (ShapeKind)random.Next(Enum.GetValues<ShapeKind>().Length),
                colours[i].Name,
                (SizeClass)random.Next(3),
                positions[i],
                texture));
        }
        var background = Palette.Backgrounds[random.Next(Palette.Backgrounds.Length)].Name;
        return new Scene(background, objects);
    }
}
