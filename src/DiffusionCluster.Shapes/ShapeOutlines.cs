namespace DiffusionCluster.Shapes;

/// Signed distance (negative inside) from a point to each shape of unit radius centred at the origin,
/// in image coordinates (y grows downwards, so triangles and stars point up).
public static class ShapeOutlines
{
    static readonly (double X, double Y)[] Square = [(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)];
    static readonly (double X, double Y)[] Triangle = RegularPolygon(3, 1.0, -90);
    static readonly (double X, double Y)[] Star = StarPolygon(5, 1.0, 0.45);
    static readonly (double X, double Y)[] Diamond = [(0, -1), (0.72, 0), (0, 1), (-0.72, 0)];
    static readonly (double X, double Y)[] Hexagon = RegularPolygon(6, 0.95, 0);
    static readonly (double X, double Y)[] Cross =
    [
        (-0.3, -1), (0.3, -1), (0.3, -0.3), (1, -0.3), (1, 0.3), (0.3, 0.3),
        (0.3, 1), (-0.3, 1), (-0.3, 0.3), (-1, 0.3), (-1, -0.3), (-0.3, -0.3),
    ];

    public static double Distance(ShapeKind shape, double x, double y) => shape switch
    {
        ShapeKind.Circle => Math.Sqrt(x * x + y * y) - 1,
        ShapeKind.Ring => Math.Abs(Math.Sqrt(x * x + y * y) - 0.72) - 0.28,
        ShapeKind.Square => Polygon(Square, x, y),
        ShapeKind.Triangle => Polygon(Triangle, x, y),
        ShapeKind.Star => Polygon(Star, x, y),
        ShapeKind.Diamond => Polygon(Diamond, x, y),
        ShapeKind.Hexagon => Polygon(Hexagon, x, y),
        ShapeKind.Cross => Polygon(Cross, x, y),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
    };

    /// Exact signed distance to a simple polygon: nearest edge distance, sign from the crossing-number test.
    static double Polygon((double X, double Y)[] v, double px, double py)
    {
        double best = double.MaxValue;
        bool inside = false;
        for (int i = 0, j = v.Length - 1; i < v.Length; j = i++)
        {
            double ex = v[j].X - v[i].X, ey = v[j].Y - v[i].Y;
            double wx = px - v[i].X, wy = py - v[i].Y;
            double t = Math.Clamp((wx * ex + wy * ey) / (ex * ex + ey * ey), 0, 1);
            double bx = wx - ex * t, by = wy - ey * t;
            best = Math.Min(best, bx * bx + by * by);
            if ((v[i].Y > py) != (v[j].Y > py) && px < v[i].X + (py - v[i].Y) * ex / ey) inside = !inside;
        }
        return (inside ? -1 : 1) * Math.Sqrt(best);
    }

    static (double X, double Y)[] RegularPolygon(int sides, double radius, double startDegrees) =>
        Enumerable.Range(0, sides)
            .Select(i => (startDegrees + 360.0 * i / sides) * Math.PI / 180)
            .Select(a => (radius * Math.Cos(a), radius * Math.Sin(a)))
            .ToArray();

    static (double X, double Y)[] StarPolygon(int points, double outer, double inner) =>
        Enumerable.Range(0, 2 * points)
            .Select(i => (Angle: (-90 + 180.0 * i / points) * Math.PI / 180, R: i % 2 == 0 ? outer : inner))
            .Select(p => (p.R * Math.Cos(p.Angle), p.R * Math.Sin(p.Angle)))
            .ToArray();
}
