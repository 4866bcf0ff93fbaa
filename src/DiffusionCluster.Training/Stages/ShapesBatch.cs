using DiffusionCluster.Shapes;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Stages;

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

    /// [B, 3, size, size] renders in [-1, 1].
    public Tensor Images(int size, Device device)
    {
        using var scope = NewDisposeScope();
        return stack(Scenes.Select(s => Renderer.RenderTensor(s, size)).ToArray()).to(device).MoveToOuterDisposeScope();
    }
}
