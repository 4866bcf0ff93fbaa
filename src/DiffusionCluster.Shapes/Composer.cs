namespace DiffusionCluster.Shapes;

/// A prompt as composed for the cascade: the scene drawn for it and that scene's canonical caption, which is what the
/// text encoder reads. IgnoredWords lists what the prompt said that the reader did not know (only when asked to go on).
public sealed record Composition(string Prompt, string Caption, Scene Scene, IReadOnlyList<string> IgnoredWords);

/// Samples one scene per seed among all the scenes a prompt describes: what the prompt names is kept, everything it
/// leaves unsaid (places, sizes, colours, shapes' order on the grid, the background) is drawn uniformly from what the
/// world allows, and places satisfy every named relation. Texture unsaid means plain, as people mean it. Each
/// attribute draws from its own stream of the seed, so naming a different colour does not move the objects.
/// This is prompt upsampling (DALL-E 3's answer to short prompts) for a world whose captions we can enumerate: the
/// cascade after it only ever reads captions that name everything, the kind it was trained on. An operation that
/// starts from an image passes the scene read from it as a reference: what the prompt leaves unsaid is then taken from
/// the image's matching objects (same shape) and background where the prompt allows, so two captions of one image
/// (a text diff's) differ only in what their prompts name differently, and both say where the image has its objects.
public sealed class Composer(World world)
{
    public World World { get; } = world;

    /// Throws ArgumentException naming the problem and the limit for a prompt this world cannot draw; with
    /// ignoreUnknownWords, unknown words are dropped and reported instead of refused.
    public Composition Compose(string prompt, long seed, bool ignoreUnknownWords = false, Scene? reference = null)
    {
        var request = Check(prompt, ignoreUnknownWords);
        var scene = Sample(request, seed, reference);
        return new Composition(prompt, Captioner.Canonical(scene), scene, request.Unknown);
    }

    /// Reads a prompt and checks it against the world without drawing anything.
    public SceneRequest Check(string prompt, bool ignoreUnknownWords = false)
    {
        if (string.IsNullOrWhiteSpace(prompt)) throw new ArgumentException("prompt is empty");
        SceneRequest request;
        try
        {
            request = PromptReader.Read(prompt);
        }
        catch (ArgumentException) when (!ignoreUnknownWords && PromptReader.UnknownWords(prompt, World) is { Count: > 0 } unknown)
        {
            throw new UnknownWordsException(unknown, PromptReader.KnownWords(World));
        }
        if (request.Unknown.Count > 0 && !ignoreUnknownWords)
            throw new UnknownWordsException(request.Unknown, PromptReader.KnownWords(World));
        if (request.Objects.Count == 0) throw new ArgumentException("the prompt names no object this model knows; name at least one shape (circle, square, triangle, star, ring, diamond, hexagon, cross)");
        if (request.Objects.Count > World.MaxObjects)
            throw new ArgumentException($"the prompt asks for {request.Objects.Count} objects; this model draws at most {World.MaxObjects}");
        foreach (var o in request.Objects)
            if (o.Colour is { } colour && !World.ObjectColours.Contains(colour))
                throw new ArgumentException($"this model draws objects in {string.Join(", ", World.ObjectColours)}; a {colour} object is not among them");
        if (request.Background is { } background && !World.Backgrounds.Contains(background))
            throw new ArgumentException($"this model draws backgrounds in {string.Join(", ", World.Backgrounds)}; a {background} background is not among them");
        var named = request.Objects.Where(o => o.Colour is not null).Select(o => o.Colour!).ToList();
        if (request.Background is not null && named.Contains(request.Background))
            throw new ArgumentException($"an object and the background are both {request.Background}; the object would not show");
        if (!World.RepeatedColours && named.Distinct().Count() < named.Count)
            throw new ArgumentException($"this model draws each object in a colour of its own; the prompt gives two objects the colour {named.GroupBy(c => c).First(g => g.Count() > 1).Key}");
        var places = request.Objects.Where(o => o.Position is not null).Select(o => o.Position!.Value).ToList();
        if (places.Distinct().Count() < places.Count) throw new ArgumentException("two objects are placed in the same cell; each object needs a cell of its own");
        if (!Arrangements(request).Any()) throw new ArgumentException("no arrangement on the 3x3 grid satisfies the prompt's places and relations together");
        return request;
    }

    Scene Sample(SceneRequest request, long seed, Scene? reference)
    {
        // One stream per attribute, so a change to one named attribute leaves the others' draws as they were.
        SeedStream Stream(int attribute) => new((ulong)seed, attribute);
        var matched = reference is null ? new SceneObject?[request.Objects.Count] : Match(request, reference);
        var placeStream = Stream(1);
        var arrangements = Arrangements(request).ToList();
        // The image's places for its matched objects where the prompt's places and relations allow them.
        var fromReference = arrangements.Where(a => a.Select((cell, i) => matched[i] is not { } m || request.Objects[i].Position is not null || m.Position == cell)
            .All(ok => ok)).ToList();
        if (fromReference.Count > 0) arrangements = fromReference;
        var places = arrangements[placeStream.Next(arrangements.Count)];

        var colourStream = Stream(2);
        var taken = request.Objects.Where(o => o.Colour is not null).Select(o => o.Colour!).ToHashSet();
        if (request.Background is not null) taken.Add(request.Background);
        var colours = new string[request.Objects.Count];
        for (int i = 0; i < colours.Length; i++)
        {
            if (request.Objects[i].Colour is { } named)
            {
                colours[i] = named;
                continue;
            }
            if (matched[i] is { } m && World.ObjectColours.Contains(m.Colour) && !taken.Contains(m.Colour))
            {
                colours[i] = m.Colour;
                if (!World.RepeatedColours) taken.Add(m.Colour);
                continue;
            }
            var free = World.ObjectColours.Where(c => !taken.Contains(c)).ToList();
            if (free.Count == 0) free = World.ObjectColours.Where(c => c != request.Background).ToList();
            colours[i] = free[colourStream.Next(free.Count)];
            if (!World.RepeatedColours) taken.Add(colours[i]);
        }

        var sizeStream = Stream(3);
        var objects = request.Objects.Select((o, i) => new SceneObject(
            o.Shape, colours[i], o.Size ?? matched[i]?.Size ?? (SizeClass)sizeStream.Next(3), places[i], o.Texture ?? matched[i]?.Texture ?? Texture.Plain)).ToList();

        var backgrounds = World.Backgrounds.Where(b => !colours.Contains(b)).ToList();
        string background = request.Background
            ?? (reference is not null && backgrounds.Contains(reference.Background) ? reference.Background : backgrounds[Stream(4).Next(backgrounds.Count)]);
        return new Scene(background, objects);
    }

    /// For each requested object, the reference object it stands for (null where none): the assignment of distinct
    /// reference objects of the same shape that agrees with the most named colours, sizes, textures and places.
    static SceneObject?[] Match(SceneRequest request, Scene reference)
    {
        int n = request.Objects.Count;
        var best = new SceneObject?[n];
        int bestScore = -1;
        // Each requested object takes a reference object or none (index -1); a few objects each, so every choice is tried.
        void Try(int index, int[] chosen, int score)
        {
            if (index == n)
            {
                if (score <= bestScore) return;
                bestScore = score;
                for (int i = 0; i < n; i++) best[i] = chosen[i] < 0 ? null : reference.Objects[chosen[i]];
                return;
            }
            chosen[index] = -1;
            Try(index + 1, chosen, score);
            var want = request.Objects[index];
            for (int r = 0; r < reference.Objects.Count; r++)
            {
                var o = reference.Objects[r];
                if (o.Shape != want.Shape || chosen.Take(index).Contains(r)) continue;
                chosen[index] = r;
                Try(index + 1, chosen, score + 4 + (want.Colour == o.Colour ? 2 : 0) + (want.Size == o.Size ? 1 : 0)
                    + (want.Texture == o.Texture ? 1 : 0) + (want.Position == o.Position ? 1 : 0));
            }
            chosen[index] = -1;
        }
        Try(0, new int[n], 0);
        return best;
    }

    /// Every assignment of distinct grid cells to the request's objects that keeps each named place and holds every
    /// named relation, in a fixed order.
    static IEnumerable<Position[]> Arrangements(SceneRequest request)
    {
        var cells = Enum.GetValues<Position>();
        var chosen = new Position[request.Objects.Count];
        var used = new bool[cells.Length];
        return Extend(0);

        IEnumerable<Position[]> Extend(int index)
        {
            if (index == chosen.Length)
            {
                yield return (Position[])chosen.Clone();
                yield break;
            }
            foreach (var cell in cells)
            {
                if (used[(int)cell] || request.Objects[index].Position is { } named && named != cell) continue;
                chosen[index] = cell;
                bool holds = request.Relations.All(r => r.First > index || r.Second > index || r.Kind.Holds(chosen[r.First], chosen[r.Second]));
                if (!holds) continue;
                used[(int)cell] = true;
                foreach (var arrangement in Extend(index + 1)) yield return arrangement;
                used[(int)cell] = false;
            }
        }
    }
}

/// Uniform draws from (seed, stream) by SplitMix64: System.Random's seeded generator gives nearly the same first
/// draws for nearby seeds, so seeds 1-4 of "a red circle" would land in the same few places.
sealed class SeedStream(ulong seed, int stream)
{
    ulong _state = seed ^ (0xD1B54A32D192ED03UL * (ulong)(stream + 1));

    public int Next(int count)
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z % (ulong)count);
    }
}

/// A prompt with words the model does not know; the message names each one and where the vocabulary is listed.
/// Names each unknown word, with the known word it is a slip of where one is near (Spelling).
public sealed class UnknownWordsException(IReadOnlyList<string> words, IEnumerable<string> known) : ArgumentException(
    $"the prompt has {(words.Count == 1 ? "a word" : "words")} this model does not know: "
    + string.Join(", ", words.Distinct().Select(w => Spelling.Closest(w, known) is { } near ? $"\"{w}\" (did you mean \"{near}\"?)" : $"\"{w}\""))
    + "; the vocabulary is listed in docs/VOCABULARY.md and at GET /v1/vocabulary (or ask to ignore unknown words)")
{
    public IReadOnlyList<string> Words { get; } = words;
}
