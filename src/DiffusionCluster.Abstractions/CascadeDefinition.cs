namespace DiffusionCluster.Abstractions;

/// What a stage does, which picks the executor that runs it: encode the prompt, sample an image embedding from
/// the text, or sample an image.
[GenerateSerializer, Alias("DiffusionCluster.StageKind")]
public enum StageKind
{
    Text,
    Prior,
    Image,
}

/// One stage as a model folder lists it: the stage, the component folder holding its network, its kind and,
/// for an image stage, the size in pixels of the images it makes.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.StageDescriptor")]
public sealed record StageDescriptor(
    [property: Id(0)] CascadeStage Stage,
    [property: Id(1)] string Component,
    [property: Id(2)] StageKind Kind,
    [property: Id(3)] int Size = 0);

/// A cascade's stages in running order (model_index.json "_stages"): the in-process pipeline and the request
/// grain both walk this list. The text stage feeds every later stage; the prior's embedding conditions the first
/// image stage; each later image stage refines the image before it. A request of size s runs the stages up to the
/// image stage that makes s pixels.
public sealed class CascadeDefinition
{
    public CascadeDefinition(IReadOnlyList<StageDescriptor> stages)
    {
        Check(stages);
        Stages = stages;
        Sizes = stages.Where(s => s.Kind == StageKind.Image).Select(s => s.Size).ToArray();
    }

    public IReadOnlyList<StageDescriptor> Stages { get; }

    /// The image sizes a request can ask for, smallest first.
    public IReadOnlyList<int> Sizes { get; }

    public StageDescriptor this[CascadeStage stage] =>
        Stages.FirstOrDefault(s => s.Stage == stage) ?? throw new ArgumentException($"the cascade has no stage {stage.Name()}; it has {string.Join(", ", Stages.Select(s => s.Stage.Name()))}");

    public bool Has(CascadeStage stage) => Stages.Any(s => s.Stage == stage);

    /// The stages a request for images of this size runs.
    public IReadOnlyList<StageDescriptor> For(int size)
    {
        var last = Stages.ToList().FindIndex(s => s.Kind == StageKind.Image && s.Size == size);
        if (last < 0) throw new ArgumentException($"size {size} is not supported; choose {string.Join(", ", Sizes)}");
        return Stages.Take(last + 1).ToList();
    }

    /// Text first, then the prior, then image stages of growing size, each stage once: the order the walk's data
    /// flow needs.
    static void Check(IReadOnlyList<StageDescriptor> stages)
    {
        string Listed() => string.Join(", ", stages.Select(s => s.Stage.Name()));
        if (stages.Count < 3 || stages[0].Kind != StageKind.Text || stages[1].Kind != StageKind.Prior || stages.Skip(2).Any(s => s.Kind != StageKind.Image))
            throw new ArgumentException($"a cascade runs a text stage, a prior, then one or more image stages; this one lists {Listed()}");
        var repeated = stages.GroupBy(s => s.Stage).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null) throw new ArgumentException($"stage {repeated.Key.Name()} is listed twice in the cascade");
        for (int i = 2; i < stages.Count; i++)
        {
            if (stages[i].Size <= 0) throw new ArgumentException($"image stage {stages[i].Stage.Name()} has size {stages[i].Size}; give the pixels it makes");
            if (i > 2 && stages[i].Size <= stages[i - 1].Size)
                throw new ArgumentException($"image stage {stages[i].Stage.Name()} makes {stages[i].Size} px after {stages[i - 1].Stage.Name()}'s {stages[i - 1].Size} px; each image stage must enlarge");
        }
        if (stages.Any(s => string.IsNullOrWhiteSpace(s.Component))) throw new ArgumentException("every stage names its component folder");
    }
}
