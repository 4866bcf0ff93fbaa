using DiffusionCluster.Shapes;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// A batch of training scenes and captions, drawn from the step's generator so it is reproducible.
public sealed record ShapesBatch(IReadOnlyList<Scene> Scenes, IReadOnlyList<string> Captions)
{
    public static ShapesBatch Draw(int batchSize, Generator generator)
    {
        using var seeds = randint(0, int.MaxValue, new long[] { batchSize }, dtype: int64, generator: generator);
        var scenes = new List<Scene>();
        var captions = new List<string>();
        foreach (long seed in seeds.data<long>().ToArray())
        {
            var scene = SceneGenerator.Sample((int)seed, Split.Train);
            scenes.Add(scene);
            captions.Add(Captioner.Describe(scene, new Random((int)(seed ^ 0x5bd1e995))).Text);
        }
        return new ShapesBatch(scenes, captions);
    }

    /// batchSize / groupSize groups of training scenes that differ only in their objects' shapes: each group is a
    /// drawn scene and groupSize - 1 copies with every object's shape changed (all in the train split, no two alike),
    /// each captioned with the same random choices of wording. In a contrastive batch the copies are hard negatives:
    /// colour, size, place and background no longer tell the captions apart, only shape does.
    public static ShapesBatch DrawShapeVariants(int batchSize, int groupSize, Generator generator)
    {
        // A one-object scene has at least 7 train-split shapes (the held-out rule removes at most one per colour and place).
        if (groupSize is < 2 or > 7 || batchSize % groupSize != 0)
            throw new ArgumentException($"the batch ({batchSize}) must be a whole number of groups of 2 to 7 scenes (group size {groupSize})");
        using var seeds = randint(0, int.MaxValue, new long[] { batchSize / groupSize }, dtype: int64, generator: generator);
        var scenes = new List<Scene>();
        var captions = new List<string>();
        int kinds = Enum.GetValues<ShapeKind>().Length;
        foreach (long seed in seeds.data<long>().ToArray())
        {
            var random = new Random((int)seed);
            var group = new List<Scene> { SceneGenerator.Sample((int)seed, Split.Train) };
            while (group.Count < groupSize)
            {
                var variant = group[0] with { Objects = group[0].Objects.Select(o => o with { Shape = (ShapeKind)random.Next(kinds) }).ToList() };
                bool usable = !variant.Objects.Any(SceneGenerator.IsHeldOut)
                    && group.All(g => !g.Objects.Select(o => o.Shape).SequenceEqual(variant.Objects.Select(o => o.Shape)));
                if (usable) group.Add(variant);
            }
            int wording = random.Next();
            foreach (var scene in group)
            {
                scenes.Add(scene);
                captions.Add(Captioner.Describe(scene, new Random(wording)).Text);
            }
        }
        return new ShapesBatch(scenes, captions);
    }

    /// [B, 1, size, size] loss weights: `objectWeight` inside the objects' bounding boxes, 1 elsewhere.
    public Tensor ObjectWeights(int size, double objectWeight, Device device)
    {
        using var scope = NewDisposeScope();
        var boxes = stack(Scenes.Select(s => tensor(Renderer.ObjectBoxes(s, size)).view(1, size, size)).ToArray());
        using Scalar one = 1, extra = objectWeight - 1; // held to the end: TorchRuntime says why
        return (one + extra * boxes).to(device).MoveToOuterDisposeScope();
    }

    /// [B, 3, size, size] renders in [-1, 1].
    public Tensor Images(int size, Device device)
    {
        using var scope = NewDisposeScope();
        return Renderer.RenderBatch(Scenes, size).to(device).MoveToOuterDisposeScope();
    }
}
