namespace DiffusionCluster.Shapes;

/// How a parsed picture agrees with a caption: per attribute over the caption's objects, and overall.
public sealed record CaptionScore(int Objects, int ColourFound, int ShapeCorrect, int SizeCorrect, int PositionCorrect, bool CountCorrect, bool FullyCorrect)
{
    /// Objects are matched by colour (a scene's colours are distinct). Position means the absolute grid cell,
    /// or for a relation caption, that the relation holds between the two parsed objects.
    public static CaptionScore Of(Caption caption, ParsedScene parsed)
    {
        var scene = caption.Scene;
        var matches = MatchByColour(scene, parsed);
        int colour = 0, shape = 0, size = 0, position = 0;
        bool relationHolds = caption.Relation is null || RelationHolds(caption.Relation, matches);
        for (int i = 0; i < scene.Objects.Count; i++)
        {
            var want = scene.Objects[i];
            var got = matches[i];
            if (got is null) continue;
            colour++;
            if (got.Shape == want.Shape) shape++;
            if (got.Size == want.Size) size++;
            if (caption.MentionsPositions ? got.Position == want.Position : relationHolds) position++;
        }
        bool count = parsed.Objects.Count == scene.Objects.Count;
        int n = scene.Objects.Count;
        bool full = count && colour == n && shape == n && size == n && position == n;
        return new CaptionScore(n, colour, shape, size, position, count, full);
    }

    /// For each of the scene's objects, the largest parsed object of its colour (a scene's colours are distinct), or null.
    public static IReadOnlyList<ParsedObject?> MatchByColour(Scene scene, ParsedScene parsed) =>
        scene.Objects.Select(o => parsed.Objects.Where(p => p.Colour == o.Colour).MaxBy(p => p.Area)).ToList();

    static bool RelationHolds(Relation relation, IReadOnlyList<ParsedObject?> matches) =>
        matches[relation.First] is { } a && matches[relation.Second] is { } b && relation.Kind.Holds(a.Position, b.Position);
}
