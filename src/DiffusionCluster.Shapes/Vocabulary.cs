namespace DiffusionCluster.Shapes;

public enum ShapeKind { Circle, Square, Triangle, Star, Ring, Diamond, Hexagon, Cross }

public enum SizeClass { Small, Medium, Large }

public enum Texture { Plain, Stripes, Dots }

/// The 3x3 grid of places an object can stand, row-major from the top left.
public enum Position { TopLeft, Top, TopRight, Left, Center, Right, BottomLeft, Bottom, BottomRight }

/// An sRGB colour with its name; textured objects draw their pattern in a darker shade of the same colour.
public sealed record NamedColour(string Name, byte R, byte G, byte B)
{
    public const double ShadeFactor = 0.55;
    public (double R, double G, double B) Linear => (R / 255.0, G / 255.0, B / 255.0);
    public (double R, double G, double B) Shade => (R * ShadeFactor / 255.0, G * ShadeFactor / 255.0, B * ShadeFactor / 255.0);
}

/// Named colours, far enough apart (and from each other's shades) that the scene parser can tell them apart.
public static class Palette
{
    public static readonly NamedColour[] Objects =
    [
        new("red", 220, 40, 40), new("orange", 245, 140, 20), new("yellow", 240, 220, 40), new("green", 40, 170, 60),
        new("blue", 40, 80, 220), new("purple", 140, 60, 190), new("pink", 245, 130, 190), new("cyan", 40, 200, 210),
    ];

    public static readonly NamedColour[] Backgrounds =
    [
        new("white", 250, 250, 250), new("black", 20, 20, 20), new("gray", 128, 128, 128), new("beige", 235, 225, 200),
    ];

    /// Every named colour: the object colours, then the background colours.
    public static readonly NamedColour[] All = [.. Objects, .. Backgrounds];

    /// Any named colour, object or background (a wider world draws white objects or coloured backgrounds).
    public static NamedColour Colour(string name) => All.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"unknown colour \"{name}\"; known: {string.Join(", ", All.Select(c => c.Name))}");

    public static NamedColour Object(string name) => Objects.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"unknown colour \"{name}\"; known: {string.Join(", ", Objects.Select(c => c.Name))}");

    public static NamedColour Background(string name) => Backgrounds.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"unknown background \"{name}\"; known: {string.Join(", ", Backgrounds.Select(c => c.Name))}");
}

public static class Geometry
{
    /// Half-extent of each size class as a fraction of the image width; the large one still fits its grid cell.
    public static double Radius(SizeClass size) => size switch
    {
        SizeClass.Small => 0.075,
        SizeClass.Medium => 0.11,
        _ => 0.15,
    };

    public static (double X, double Y) Centre(Position position)
    {
        int index = (int)position;
        return ((index % 3 + 0.5) / 3.0, (index / 3 + 0.5) / 3.0);
    }

    public static Position At(int row, int column) => (Position)(row * 3 + column);
    public static int Row(this Position p) => (int)p / 3;
    public static int Column(this Position p) => (int)p % 3;
}
