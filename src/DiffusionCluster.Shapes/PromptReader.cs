using System.Text.RegularExpressions;

namespace DiffusionCluster.Shapes;

/// Reads a prompt as people write it ("a red circle", "two green stars above a blue ring", "a striped square in the
/// top left corner on a black background") into the SceneRequest it names. An object is the words before its shape
/// word (count, size, texture, colour, in any order); a place ("in the top left corner", "on the left", "at the
/// top") belongs to the object just before it, or to the next one when it comes first; a relation ("above", "to the
/// left of", "below and to the right of") links the objects on either side; "the square" refers back to an object
/// already named. Words outside the vocabulary are collected, never silently skipped.
public static partial class PromptReader
{
    /// The most objects one count word may ask for; beyond the world's limit the composer refuses the prompt.
    const int LargestCount = 9;

    static readonly Dictionary<string, SizeClass> SizeWords = new()
    {
        ["small"] = SizeClass.Small, ["little"] = SizeClass.Small, ["tiny"] = SizeClass.Small,
        ["medium"] = SizeClass.Medium, ["mid"] = SizeClass.Medium,
        ["large"] = SizeClass.Large, ["big"] = SizeClass.Large, ["huge"] = SizeClass.Large,
    };

    static readonly Dictionary<string, Texture> TextureWords = new()
    {
        ["plain"] = Texture.Plain, ["solid"] = Texture.Plain,
        ["striped"] = Texture.Stripes, ["stripy"] = Texture.Stripes, ["stripey"] = Texture.Stripes,
        ["dotted"] = Texture.Dots, ["spotted"] = Texture.Dots, ["spotty"] = Texture.Dots,
    };

    static readonly Dictionary<string, ShapeKind> ShapeWords = new()
    {
        ["circle"] = ShapeKind.Circle, ["circles"] = ShapeKind.Circle, ["disc"] = ShapeKind.Circle, ["discs"] = ShapeKind.Circle,
        ["disk"] = ShapeKind.Circle, ["disks"] = ShapeKind.Circle,
        ["square"] = ShapeKind.Square, ["squares"] = ShapeKind.Square,
        ["triangle"] = ShapeKind.Triangle, ["triangles"] = ShapeKind.Triangle,
        ["star"] = ShapeKind.Star, ["stars"] = ShapeKind.Star,
        ["ring"] = ShapeKind.Ring, ["rings"] = ShapeKind.Ring, ["donut"] = ShapeKind.Ring, ["donuts"] = ShapeKind.Ring,
        ["doughnut"] = ShapeKind.Ring, ["doughnuts"] = ShapeKind.Ring,
        ["diamond"] = ShapeKind.Diamond, ["diamonds"] = ShapeKind.Diamond, ["rhombus"] = ShapeKind.Diamond, ["rhombi"] = ShapeKind.Diamond,
        ["rhombuses"] = ShapeKind.Diamond,
        ["hexagon"] = ShapeKind.Hexagon, ["hexagons"] = ShapeKind.Hexagon,
        ["cross"] = ShapeKind.Cross, ["crosses"] = ShapeKind.Cross, ["plus"] = ShapeKind.Cross, ["pluses"] = ShapeKind.Cross,
    };

    static readonly Dictionary<string, int> CountWords = new()
    {
        ["a"] = 1, ["an"] = 1, ["one"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5, ["six"] = 6,
        ["seven"] = 7, ["eight"] = 8, ["nine"] = 9, ["pair"] = 2, ["couple"] = 2,
    };

    static readonly Dictionary<string, string> ColourAliases = new() { ["grey"] = "gray", ["violet"] = "purple", ["turquoise"] = "cyan" };

    /// Place words: each names a row, a column or both (null: says nothing about it).
    static readonly Dictionary<string, (int? Row, int? Column)> PlaceWords = new()
    {
        ["top"] = (0, null), ["upper"] = (0, null), ["bottom"] = (2, null), ["lower"] = (2, null),
        ["left"] = (null, 0), ["right"] = (null, 2),
        ["middle"] = (null, null), ["center"] = (null, null), ["centre"] = (null, null), ["central"] = (null, null),
    };

    static readonly string[] PlaceNouns = ["corner", "side", "edge", "half", "part"];
    static readonly string[] Prepositions = ["in", "at", "on", "to", "near", "along"];

    /// Words that carry no meaning of their own here ("there is", "a picture of", "with").
    static readonly HashSet<string> Fillers =
    [
        "there", "is", "are", "of", "the", "in", "at", "on", "with", "scene", "image", "picture", "drawing", "showing", "shows",
        "and", ",", "sized", "coloured", "colored", "shaped", "shape", "shapes", "object", "objects", "some", "draw", "please", ".",
    ];

    /// Every word the reader knows, grouped by role: what docs and the vocabulary endpoint list.
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Vocabulary(World world) => new Dictionary<string, IReadOnlyList<string>>
    {
        ["counts"] = CountWords.Keys.Where(w => CountWords[w] <= world.MaxObjects).Concat(Enumerable.Range(1, world.MaxObjects).Select(n => $"{n}")).Order().ToList(),
        ["sizes"] = SizeWords.Keys.Order().ToList(),
        ["textures"] = TextureWords.Keys.Order().ToList(),
        ["object_colours"] = world.ObjectColours.ToList(),
        ["background_colours"] = world.Backgrounds.ToList(),
        ["colour_aliases"] = ColourAliases.Select(a => $"{a.Key} = {a.Value}").Order().ToList(),
        ["shapes"] = ShapeWords.Keys.Order().ToList(),
        ["places"] = PlaceWords.Keys.Concat(PlaceNouns).Order().ToList(),
        ["relations"] =
        [
            "above", "over", "on top of", "below", "under", "beneath", "underneath", "left of", "to the left of", "right of", "to the right of",
            "above and to the left of", "above and to the right of", "below and to the left of", "below and to the right of",
            "to the upper left of", "to the upper right of", "to the lower left of", "to the lower right of",
        ],
        ["other"] = Fillers.Concat(["background", "backdrop", "against", "polka dot"]).Distinct().Order().ToList(),
    };

    public static SceneRequest Read(string prompt)
    {
        var words = Words(prompt);
        var objects = new List<ObjectRequest>();
        var relations = new List<Relation>();
        var unknown = new List<string>();
        string? background = null;
        var pending = new Pending();
        Position? pendingPlace = null;
        RelationKind? pendingRelation = null;
        int relationFrom = -1;
        // The objects of the noun just read (a count makes several), while nothing separates them from what follows.
        List<int>? last = null;
        bool backgroundNext = false;

        for (int i = 0; i < words.Count;)
        {
            string word = words[i];
            if (TryRelation(words, i, out var relation, out int relationLength))
            {
                if (last is null) throw new ArgumentException($"\"{string.Join(' ', words.Skip(i).Take(relationLength))}\" needs an object before it");
                if (last.Count != 1) throw new ArgumentException($"a relation such as \"{word}\" links one object to another; \"{objects[last[0]].Description}\" names {last.Count}");
                (pendingRelation, relationFrom, last) = (relation, last[0], null);
                i += relationLength;
                continue;
            }
            if (TryPlace(words, i, out var place, out int placeLength))
            {
                if (last is not null && last.Count == 1 && objects[last[0]].Position is null && !pending.Any)
                    objects[last[0]] = objects[last[0]] with { Position = place };
                else if (last is not null && last.Count > 1)
                    throw new ArgumentException($"\"{string.Join(' ', words.Skip(i).Take(placeLength))}\" is one place, and {last.Count} objects cannot share one place; name a place per object");
                else pendingPlace = place;
                last = null;
                i += placeLength;
                continue;
            }
            string? colour = ColourAliases.GetValueOrDefault(word, word);
            if (Palette.All.Any(c => c.Name == colour))
            {
                bool namesBackground = backgroundNext
                    || (i + 1 < words.Count && words[i + 1] is "background" or "backdrop")
                    || (i + 2 < words.Count && words[i + 1] is "colored" or "coloured" && words[i + 2] is "background" or "backdrop");
                if (namesBackground)
                {
                    if (background is not null && background != colour) throw new ArgumentException($"the prompt names two backgrounds, {background} and {colour}");
                    background = colour;
                    backgroundNext = false;
                    pending.Count = null;
                }
                else
                {
                    if (pending.Colour is not null && pending.Colour != colour) throw new ArgumentException($"an object is both {pending.Colour} and {colour}; name one colour per object");
                    pending.Colour = colour;
                }
                i++;
                continue;
            }
            if (ShapeWords.TryGetValue(word, out var shape))
            {
                var wanted = new ObjectRequest(shape, pending.Colour, pending.Size, pending.Texture, pendingPlace);
                int count = pending.Count ?? 1;
                if (count > 1 && pendingPlace is not null) throw new ArgumentException($"{count} objects cannot share one place; name a place per object");
                int? referent = pending.Definite && count == 1 ? Referent(objects, wanted) : null;
                last = referent is { } r ? [r] : Enumerable.Range(objects.Count, count).ToList();
                if (referent is null) objects.AddRange(Enumerable.Repeat(wanted, count));
                if (pendingRelation is { } kind)
                {
                    if (last.Count != 1) throw new ArgumentException($"a relation links one object to another; \"{wanted.Description}\" names {last.Count}");
                    if (last[0] == relationFrom) throw new ArgumentException($"an object cannot stand in a relation to itself (\"{wanted.Description}\")");
                    relations.Add(new Relation(relationFrom, kind, last[0]));
                    pendingRelation = null;
                }
                pending = new Pending();
                pendingPlace = null;
                i++;
                continue;
            }
            if (SizeWords.TryGetValue(word, out var size))
            {
                pending.Size = size;
                // "medium sized", "mid sized": the second word is a filler.
                i++;
                continue;
            }
            if (TextureWords.TryGetValue(word, out var texture))
            {
                pending.Texture = texture;
                i++;
                continue;
            }
            if (CountWords.TryGetValue(word, out int n) || int.TryParse(word, out n))
            {
                if (n is < 1 or > LargestCount) throw new ArgumentException($"the prompt asks for {n} objects; a scene holds 1 to {LargestCount} (one per grid cell)");
                // The last count word wins: "a pair of" is two.
                pending.Count = n;
                i++;
                continue;
            }
            if (word == "the")
            {
                pending.Definite = true;
                i++;
                continue;
            }
            if (word == "against")
            {
                backgroundNext = true;
                last = null;
                i++;
                continue;
            }
            if (word is "background" or "backdrop" || Fillers.Contains(word))
            {
                if (word is "and" or "," or "with") last = null;
                // "on white", "on a blue": a colour after "on" that ends the phrase is the background.
                if (word == "on" && BareColourFollows(words, i + 1)) backgroundNext = true;
                i++;
                continue;
            }
            unknown.Add(word);
            i++;
        }
        if (pending.Any) throw new ArgumentException($"\"{pending.Words}\" describes no shape; end each object with a shape word ({string.Join(", ", Enum.GetValues<ShapeKind>().Select(s => s.ToString().ToLowerInvariant()))})");
        if (pendingRelation is not null) throw new ArgumentException("a relation at the end of the prompt needs an object after it");
        if (pendingPlace is not null)
            throw new ArgumentException("the prompt ends with a place that follows no object it could belong to; put each place right after its object");
        if (objects.Count == 0 && unknown.Count == 0) throw new ArgumentException("the prompt names no object; name at least one shape (circle, square, triangle, star, ring, diamond, hexagon, cross)");
        return new SceneRequest(objects, relations, background, unknown);
    }

    static bool BareColourFollows(List<string> words, int at)
    {
        if (at < words.Count && words[at] is "a" or "an") at++;
        if (at >= words.Count || !Palette.All.Any(c => c.Name == ColourAliases.GetValueOrDefault(words[at], words[at]))) return false;
        return at + 1 == words.Count || words[at + 1] is "," or "and" or "with" or ".";
    }

    /// The one earlier object "the <noun>" can mean, or null when it names a new one.
    static int? Referent(List<ObjectRequest> objects, ObjectRequest wanted)
    {
        var matches = Enumerable.Range(0, objects.Count).Where(i =>
            objects[i].Shape == wanted.Shape && (wanted.Colour is null || objects[i].Colour == wanted.Colour)
            && (wanted.Size is null || objects[i].Size == wanted.Size) && (wanted.Texture is null || objects[i].Texture == wanted.Texture)).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    /// "above", "over", "below", "under", "beneath", "(to the) left of", "(to the) right of", and two of them joined by
    /// "and" for a diagonal ("above and to the left of"); also "to the upper left of".
    static bool TryRelation(List<string> words, int at, out RelationKind kind, out int length)
    {
        kind = default;
        length = 0;
        if (!TryRelationPart(words, at, out var first, out int firstLength))
            return TryUpperLowerOf(words, at, out kind, out length);
        (int rows, int columns) = first;
        length = firstLength;
        if (at + length < words.Count && words[at + length] == "and" && TryRelationPart(words, at + length + 1, out var second, out int secondLength)
            && (rows == 0) != (second.Rows == 0))
        {
            (rows, columns) = (rows + second.Rows, columns + second.Columns);
            length += 1 + secondLength;
        }
        kind = Enum.GetValues<RelationKind>().First(k => k.Direction() == (rows, columns));
        return true;
    }

    static bool TryRelationPart(List<string> words, int at, out (int Rows, int Columns) direction, out int length)
    {
        direction = default;
        length = 0;
        if (at >= words.Count) return false;
        if (at + 2 < words.Count && words[at] == "on" && words[at + 1] == "top" && words[at + 2] == "of")
        {
            (direction, length) = ((-1, 0), 3);
            return true;
        }
        switch (words[at])
        {
            case "above" or "over":
                (direction, length) = ((-1, 0), 1);
                return true;
            case "below" or "under" or "beneath" or "underneath":
                (direction, length) = ((1, 0), 1);
                return true;
        }
        // "(to the) left of", "(to the) right of"
        int i = at;
        if (i + 1 < words.Count && words[i] == "to" && words[i + 1] == "the") i += 2;
        if (i + 1 < words.Count && words[i] is "left" or "right" && words[i + 1] == "of")
        {
            direction = (0, words[i] == "left" ? -1 : 1);
            length = i + 2 - at;
            return true;
        }
        return false;
    }

    /// "to the upper left of", "to the lower right of".
    static bool TryUpperLowerOf(List<string> words, int at, out RelationKind kind, out int length)
    {
        kind = default;
        length = 0;
        if (at + 4 >= words.Count || words[at] != "to" || words[at + 1] != "the") return false;
        if (words[at + 2] is not ("upper" or "lower") || words[at + 3] is not ("left" or "right") || words[at + 4] != "of") return false;
        kind = Enum.GetValues<RelationKind>().First(k => k.Direction() == (words[at + 2] == "upper" ? -1 : 1, words[at + 3] == "left" ? -1 : 1));
        length = 5;
        return true;
    }

    /// A place: a preposition, "the", place words (top, bottom, left, right, middle ...) and an optional noun
    /// (corner, side ...): "in the top left corner", "at the bottom", "on the left", "in the middle", "top right".
    static bool TryPlace(List<string> words, int at, out Position place, out int length)
    {
        place = default;
        length = 0;
        int i = at;
        if (i < words.Count && Prepositions.Contains(words[i])) i++;
        if (i < words.Count && words[i] == "the") i++;
        int? row = null, column = null;
        int placeWords = 0;
        while (i < words.Count && PlaceWords.TryGetValue(words[i], out var named))
        {
            // "left of" / "right of" is a relation, not a place.
            if (i + 1 < words.Count && words[i + 1] == "of" && named.Column is not null && !ImageSuffix(words, i + 1)) break;
            if (named.Row is { } r)
            {
                if (row is not null && row != r) return false;
                row = r;
            }
            if (named.Column is { } c)
            {
                if (column is not null && column != c) return false;
                column = c;
            }
            placeWords++;
            i++;
        }
        if (placeWords == 0) return false;
        if (i < words.Count && PlaceNouns.Contains(words[i])) i++;
        if (ImageSuffix(words, i)) i += 3;
        place = Geometry.At(row ?? 1, column ?? 1);
        length = i - at;
        return true;
    }

    /// "of the image", "of the picture", ... after a place.
    static bool ImageSuffix(List<string> words, int at) =>
        at + 2 < words.Count && words[at] == "of" && words[at + 1] == "the" && words[at + 2] is "image" or "picture" or "scene" or "canvas" or "frame";

    /// Lower-case words; commas and full stops stand alone, hyphens split ("polka-dot", "mid-sized").
    /// The prompt's words that the reader knows in no role: what explains a prompt it could not follow (a misspelt
    /// shape reads as no shape at all, so "a red cirle above a star" has nothing before "above").
    public static IReadOnlyList<string> UnknownWords(string prompt, World world)
    {
        var known = KnownWords(world);
        return Words(prompt).Where(w => !known.Contains(w) && !Palette.All.Any(c => c.Name == w)).Distinct().ToList();
    }

    /// Every single word of the vocabulary (its phrases split), for the checks and spelling hints.
    public static HashSet<string> KnownWords(World world) => Vocabulary(world).Values.SelectMany(entries => entries)
        .SelectMany(entry => entry.Split([' ', '='], StringSplitOptions.RemoveEmptyEntries)).ToHashSet();

    static List<string> Words(string prompt)
    {
        var spaced = Separators().Replace(prompt.ToLowerInvariant(), m => m.Value is "," ? " , " : " ");
        var words = spaced.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        // "polka dot(s)" is one texture word.
        for (int i = 0; i + 1 < words.Count; i++)
            if (words[i] == "polka" && words[i + 1] is "dot" or "dots" or "dotted")
            {
                words[i] = "dotted";
                words.RemoveAt(i + 1);
            }
        return words;
    }

    [GeneratedRegex(@"[,.;:!?\-_/""()]")]
    private static partial Regex Separators();

    sealed class Pending
    {
        public int? Count;
        public SizeClass? Size;
        public Texture? Texture;
        public string? Colour;
        public bool Definite;
        public bool Any => Size is not null || Texture is not null || Colour is not null;
        public string Words => string.Join(' ', new[] { Size?.ToString().ToLowerInvariant(), Texture?.ToString().ToLowerInvariant(), Colour }.Where(w => w is not null));
    }
}
