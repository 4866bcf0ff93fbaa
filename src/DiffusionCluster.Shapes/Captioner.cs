namespace DiffusionCluster.Shapes;

/// "first is above second" style constraint between two objects of a caption (indices into the scene's objects).
/// Above / below keep the column and left of / right of keep the row; the diagonal ones change both.
public enum RelationKind { Above, Below, LeftOf, RightOf, AboveLeftOf, AboveRightOf, BelowLeftOf, BelowRightOf }

public static class Relations
{
    /// The sign of (first's row - second's row) and (first's column - second's column) the relation asks for.
    public static (int Rows, int Columns) Direction(this RelationKind kind) => kind switch
    {
        RelationKind.Above => (-1, 0),
        RelationKind.Below => (1, 0),
        RelationKind.LeftOf => (0, -1),
        RelationKind.RightOf => (0, 1),
        RelationKind.AboveLeftOf => (-1, -1),
        RelationKind.AboveRightOf => (-1, 1),
        RelationKind.BelowLeftOf => (1, -1),
        _ => (1, 1),
    };

    /// Whether two grid cells stand in the relation.
    public static bool Holds(this RelationKind kind, Position first, Position second) =>
        kind.Direction() == (Math.Sign(first.Row() - second.Row()), Math.Sign(first.Column() - second.Column()));
}

public sealed record Relation(int First, RelationKind Kind, int Second);

/// A caption and what it claims: every object's colour, shape, size and texture, and either each object's
/// absolute position or one relation between two objects.
public sealed record Caption(string Text, Scene Scene, Relation? Relation)
{
    public bool MentionsPositions => Relation is null;
}

/// Turns scenes into English from a varied grammar: synonyms, optional articles, several word orders and
/// relations such as "above" and "to the left of".
public static class Captioner
{
    static readonly Dictionary<SizeClass, string[]> SizeWords = new()
    {
        [SizeClass.Small] = ["small", "little", "tiny"],
        [SizeClass.Medium] = ["medium", "medium sized", "mid sized"],
        [SizeClass.Large] = ["large", "big", "huge"],
    };

    static readonly Dictionary<ShapeKind, string[]> ShapeWords = new()
    {
        [ShapeKind.Circle] = ["circle", "disc"],
        [ShapeKind.Square] = ["square"],
        [ShapeKind.Triangle] = ["triangle"],
        [ShapeKind.Star] = ["star"],
        [ShapeKind.Ring] = ["ring", "donut"],
        [ShapeKind.Diamond] = ["diamond", "rhombus"],
        [ShapeKind.Hexagon] = ["hexagon"],
        [ShapeKind.Cross] = ["cross", "plus"],
    };

    static readonly Dictionary<Texture, string[]> TextureWords = new()
    {
        [Texture.Plain] = ["", "", "plain"],
        [Texture.Stripes] = ["striped", "stripy"],
        [Texture.Dots] = ["dotted", "spotted", "polka dot"],
    };

    static readonly Dictionary<Position, string[]> PositionPhrases = new()
    {
        [Position.TopLeft] = ["in the top left corner", "at the top left", "in the upper left"],
        [Position.Top] = ["at the top", "in the top middle", "at the top center"],
        [Position.TopRight] = ["in the top right corner", "at the top right", "in the upper right"],
        [Position.Left] = ["on the left", "at the left", "in the middle left"],
        [Position.Center] = ["in the center", "in the middle", "in the centre"],
        [Position.Right] = ["on the right", "at the right", "in the middle right"],
        [Position.BottomLeft] = ["in the bottom left corner", "at the bottom left", "in the lower left"],
        [Position.Bottom] = ["at the bottom", "in the bottom middle", "at the bottom center"],
        [Position.BottomRight] = ["in the bottom right corner", "at the bottom right", "in the lower right"],
    };

    static readonly Dictionary<RelationKind, string[]> RelationPhrases = new()
    {
        [RelationKind.Above] = ["above", "over"],
        [RelationKind.Below] = ["below", "under"],
        [RelationKind.LeftOf] = ["to the left of", "left of"],
        [RelationKind.RightOf] = ["to the right of", "right of"],
    };

    /// Every word the grammar can produce, for the tokenizer's vocabulary.
    public static IEnumerable<string> Words()
    {
        var phrases = SizeWords.Values.SelectMany(x => x)
            .Concat(ShapeWords.Values.SelectMany(x => x))
            .Concat(TextureWords.Values.SelectMany(x => x))
            .Concat(PositionPhrases.Values.SelectMany(x => x))
            .Concat(RelationPhrases.Values.SelectMany(x => x))
            .Concat(Palette.Objects.Select(c => c.Name))
            .Concat(Palette.Backgrounds.Select(c => c.Name))
            .Concat(["a", "an", "and", "on", "with", "background", "there", "is", "are", "against", "of", "the", "in", "at", "scene", "image", ","]);
        return phrases.SelectMany(p => p.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Distinct().OrderBy(w => w, StringComparer.Ordinal);
    }

    public static Caption Describe(Scene scene, Random random)
    {
        Relation? relation = scene.Objects.Count == 2 && random.NextDouble() < 0.35 ? RelationOf(scene) : null;
        string background = Pick(random, Palette.Background(scene.Background).Name);
        string body = relation is null
            ? Join(scene.Objects.Select(o => Absolute(o, random)).ToList())
            : $"{Noun(scene.Objects[relation.First], random)} {Pick(random, RelationPhrases[relation.Kind])} {Noun(scene.Objects[relation.Second], random)}";
        string text = random.Next(4) switch
        {
            0 => $"{body} on a {background} background",
            1 => $"{body} , {background} background",
            2 => $"a {background} background with {body}",
            _ => $"{body} against {background}",
        };
        return new Caption(text, scene, relation);
    }

    /// The caption the cascade reads best: every object's size, texture, colour, shape and place named, with each
    /// word the first of its synonyms, then the background ("a large red star in the center on a white background").
    public static string Canonical(Scene scene)
    {
        var objects = scene.Objects.Select(o =>
        {
            var words = new[] { SizeWords[o.Size][0], TextureWords[o.Texture][0], o.Colour, ShapeWords[o.Shape][0] }.Where(w => w.Length > 0);
            var phrase = string.Join(' ', words);
            return $"{("aeiou".Contains(phrase[0]) ? "an" : "a")} {phrase} {PositionPhrases[o.Position][0]}";
        }).ToList();
        return $"{Join(objects)} on a {scene.Background} background";
    }

    static Relation? RelationOf(Scene scene)
    {
        var (a, b) = (scene.Objects[0].Position, scene.Objects[1].Position);
        if (a.Column() == b.Column()) return new Relation(0, a.Row() < b.Row() ? RelationKind.Above : RelationKind.Below, 1);
        if (a.Row() == b.Row()) return new Relation(0, a.Column() < b.Column() ? RelationKind.LeftOf : RelationKind.RightOf, 1);
        return null;
    }

    static string Absolute(SceneObject o, Random random) =>
        random.Next(3) == 0
            ? $"{Pick(random, PositionPhrases[o.Position])} {(random.Next(2) == 0 ? "there is " : "")}{Noun(o, random)}"
            : $"{Noun(o, random)} {Pick(random, PositionPhrases[o.Position])}";

    static string Noun(SceneObject o, Random random)
    {
        var words = new[] { Pick(random, SizeWords[o.Size]), Pick(random, TextureWords[o.Texture]), o.Colour, Pick(random, ShapeWords[o.Shape]) }
            .Where(w => w.Length > 0);
        var phrase = string.Join(' ', words);
        return ("aeiou".Contains(phrase[0]) ? "an " : "a ") + phrase;
    }

    static string Join(IReadOnlyList<string> parts) => parts.Count switch
    {
        1 => parts[0],
        2 => $"{parts[0]} and {parts[1]}",
        _ => $"{parts[0]} , {parts[1]} and {parts[2]}",
    };

    static string Pick(Random random, params string[] options) => options[random.Next(options.Length)];
}
