namespace DiffusionCluster.Shapes;

/// How a parsed picture answers a prompt's request. Fully correct: exactly as many objects as asked, each matched to
/// a distinct asked-for object with every attribute the prompt named (colour, shape, size, texture, place), every named
/// relation holding between the matched objects' cells, and the named background within reach of the measured one.
public sealed record RequestScore(bool CountCorrect, bool ObjectsCorrect, bool RelationsHold, bool BackgroundCorrect)
{
    /// A measured background this far (RGB distance in [0, 1] units) from the named colour still counts as it; the
    /// nearest two palette colours are about 0.2 apart.
    public const double BackgroundTolerance = 0.1;

    public bool FullyCorrect => CountCorrect && ObjectsCorrect && RelationsHold && BackgroundCorrect;

    public static RequestScore Of(SceneRequest request, ParsedScene parsed)
    {
        bool count = parsed.Objects.Count == request.Objects.Count;
        bool background = request.Background is null || parsed.BackgroundDistance(request.Background) <= BackgroundTolerance;
        bool objects = false, relations = false;
        if (count)
            foreach (var order in SceneRequest.Assignments(request.Objects.Count))
            {
                var matched = order.Select(i => parsed.Objects[i]).ToList();
                bool each = request.Objects.Select((want, i) => Accepts(want, matched[i])).All(ok => ok);
                bool holds = request.Relations.All(r => r.Kind.Holds(matched[r.First].Position, matched[r.Second].Position));
                objects |= each;
                relations |= each && holds;
                if (each && holds) break;
            }
        return new RequestScore(count, objects, relations, background);
    }

    static bool Accepts(ObjectRequest want, ParsedObject got) =>
        got.Shape == want.Shape && (want.Colour is null || got.Colour == want.Colour) && (want.Size is null || got.Size == want.Size)
        && (want.Texture is null || got.Texture == want.Texture) && (want.Position is null || got.Position == want.Position);
}
