namespace DiffusionCluster.Shapes;

/// The kinds of prompt people write, one ShapeBench category each.
public enum PromptCategory
{
    OnePlaced, OneUnplaced, TwoPlaced, TwoUnplaced, TwoRelated, Counts, Textures, ThreeObjects, ColourRoles,
}

/// A prompt as a person writes it and what it asks for (its ground truth holds only what the prompt names).
public sealed record NaturalPrompt(int Id, PromptCategory Category, string Prompt, SceneRequest Request);

/// Writes prompts the way people do, by category: most leave the background, sizes, textures or places unsaid; some
/// use counts, lists and relations (diagonal ones too). Each prompt's request is built beside its words, not read
/// back from them, so the prompt reader is tested against it rather than defining it.
public static class NaturalPrompts
{
    static readonly Dictionary<Position, string[]> Places = new()
    {
        [Position.TopLeft] = ["in the top left corner", "at the top left", "in the upper left"],
        [Position.Top] = ["at the top", "at the top center"],
        [Position.TopRight] = ["in the top right corner", "at the top right", "in the upper right"],
        [Position.Left] = ["on the left", "at the left"],
        [Position.Center] = ["in the center", "in the middle"],
        [Position.Right] = ["on the right", "at the right"],
        [Position.BottomLeft] = ["in the bottom left corner", "at the bottom left", "in the lower left"],
        [Position.Bottom] = ["at the bottom", "at the bottom center"],
        [Position.BottomRight] = ["in the bottom right corner", "at the bottom right", "in the lower right"],
    };

    static readonly Dictionary<RelationKind, string[]> RelationWords = new()
    {
        [RelationKind.Above] = ["above", "over"],
        [RelationKind.Below] = ["below", "under"],
        [RelationKind.LeftOf] = ["to the left of", "left of"],
        [RelationKind.RightOf] = ["to the right of", "right of"],
        [RelationKind.AboveLeftOf] = ["above and to the left of"],
        [RelationKind.AboveRightOf] = ["above and to the right of"],
        [RelationKind.BelowLeftOf] = ["below and to the left of"],
        [RelationKind.BelowRightOf] = ["below and to the right of"],
    };

    /// `perCategory` prompts of each category, the same for a given seed. Colours come from `world`, except in
    /// ColourRoles, where half the prompts ask for white or black objects or a coloured background (what users ask,
    /// whether or not the world draws it).
    public static List<NaturalPrompt> Generate(int perCategory, int seed, World world)
    {
        var random = new Random(seed);
        var prompts = new List<NaturalPrompt>();
        foreach (var category in Enum.GetValues<PromptCategory>())
            for (int i = 0; i < perCategory; i++)
            {
                var (text, request) = Write(category, random, world, i);
                prompts.Add(new NaturalPrompt(prompts.Count, category, text, request));
            }
        return prompts;
    }

    static (string Text, SceneRequest Request) Write(PromptCategory category, Random random, World world, int index)
    {
        var colours = world.ObjectColours.OrderBy(_ => random.Next()).ToList();
        var cells = Enum.GetValues<Position>().OrderBy(_ => random.Next()).ToList();
        ShapeKind Shape() => (ShapeKind)random.Next(Enum.GetValues<ShapeKind>().Length);
        SizeClass? MaybeSize() => random.Next(3) == 0 ? (SizeClass)random.Next(3) : null;
        switch (category)
        {
            case PromptCategory.OnePlaced:
            case PromptCategory.OneUnplaced:
            {
                var o = new ObjectRequest(Shape(), colours[0], MaybeSize(), null, category == PromptCategory.OnePlaced ? cells[0] : null);
                return (Phrase(o, random), new SceneRequest([o], []));
            }
            case PromptCategory.TwoPlaced:
            case PromptCategory.TwoUnplaced:
            {
                bool placed = category == PromptCategory.TwoPlaced;
                var a = new ObjectRequest(Shape(), colours[0], MaybeSize(), null, placed ? cells[0] : null);
                var b = new ObjectRequest(Shape(), colours[1], MaybeSize(), null, placed ? cells[1] : null);
                return ($"{Phrase(a, random)} and {Phrase(b, random)}", new SceneRequest([a, b], []));
            }
            case PromptCategory.TwoRelated:
            {
                var kind = (RelationKind)(index % Enum.GetValues<RelationKind>().Length);
                // Half name the colours, half only the shapes ("a star above a circle").
                bool coloured = random.Next(2) == 0;
                var a = new ObjectRequest(Shape(), coloured ? colours[0] : null);
                var b = new ObjectRequest(Shape(), coloured ? colours[1] : null);
                return ($"{Phrase(a, random)} {Pick(random, RelationWords[kind])} {Phrase(b, random)}", new SceneRequest([a, b], [new Relation(0, kind, 1)]));
            }
            case PromptCategory.Counts:
            {
                int count = index % 2 == 0 ? 2 : 3;
                var shape = Shape();
                // Counts name a colour (repeated across the copies) or a size, as "two green circles", "three small stars".
                bool colour = random.Next(2) == 0;
                var o = new ObjectRequest(shape, colour ? colours[0] : null, colour ? null : (SizeClass)random.Next(3));
                var words = string.Join(' ', new[] { count == 2 ? "two" : "three", SizeWord(o.Size), o.Colour, Plural(shape) }.Where(w => !string.IsNullOrEmpty(w)));
                return (words, new SceneRequest(Enumerable.Repeat(o, count).ToList(), []));
            }
            case PromptCategory.Textures:
            {
                var o = new ObjectRequest(Shape(), colours[0], MaybeSize(), random.Next(2) == 0 ? Texture.Stripes : Texture.Dots, random.Next(2) == 0 ? cells[0] : null);
                return (Phrase(o, random), new SceneRequest([o], []));
            }
            case PromptCategory.ThreeObjects:
            {
                var objects = Enumerable.Range(0, 3).Select(i => new ObjectRequest(Shape(), colours[i], null, null, index % 3 == 0 ? cells[i] : null)).ToList();
                if (index % 3 == 2)
                {
                    // A relation inside a three-object scene.
                    var kind = (RelationKind)random.Next(4);
                    return ($"{Phrase(objects[0], random)} {Pick(random, RelationWords[kind])} {Phrase(objects[1], random)} and {Phrase(objects[2], random)}",
                        new SceneRequest(objects, [new Relation(0, kind, 1)]));
                }
                return ($"{Phrase(objects[0], random)}, {Phrase(objects[1], random)} and {Phrase(objects[2], random)}", new SceneRequest(objects, []));
            }
            default:
            {
                // Colour roles: an object colour and a background colour in one prompt. Half stay inside the world; a
                // quarter ask for a white or black object on a coloured background, a quarter a coloured object on
                // another colour.
                string colour = index % 4 == 1 ? Pick(random, "white", "black") : colours[0];
                string background = index % 2 == 0
                    ? Pick(random, world.Backgrounds.ToArray())
                    : Pick(random, Palette.Objects.Select(c => c.Name).Where(c => c != colour).ToArray());
                var o = new ObjectRequest(Shape(), colour, MaybeSize());
                string text = random.Next(3) switch
                {
                    0 => $"{Phrase(o, random)} on a {background} background",
                    1 => $"a {background} background with {Phrase(o, random)}",
                    _ => $"{Phrase(o, random)} against {background}",
                };
                return (text, new SceneRequest([o], [], background));
            }
        }
    }

    /// "a small striped red star in the top left corner": the named attributes, then the place if named.
    static string Phrase(ObjectRequest o, Random random)
    {
        var words = new[] { SizeWord(o.Size), TextureWord(o.Texture), o.Colour, o.Shape.ToString().ToLowerInvariant() }.Where(w => !string.IsNullOrEmpty(w));
        var noun = string.Join(' ', words);
        noun = ("aeiou".Contains(noun[0]) ? "an " : "a ") + noun;
        return o.Position is { } place ? $"{noun} {Pick(random, Places[place])}" : noun;
    }

    static string? SizeWord(SizeClass? size) => size switch { SizeClass.Small => "small", SizeClass.Medium => "medium", SizeClass.Large => "large", _ => null };
    static string? TextureWord(Texture? texture) => texture switch { Texture.Stripes => "striped", Texture.Dots => "dotted", Texture.Plain => "plain", _ => null };
    static string Plural(ShapeKind shape) => shape == ShapeKind.Cross ? "crosses" : shape.ToString().ToLowerInvariant() + "s";
    static string Pick(Random random, params string[] options) => options[random.Next(options.Length)];
}
