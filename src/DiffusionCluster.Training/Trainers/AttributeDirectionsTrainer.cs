using DiffusionCluster.Models.Editing;
using DiffusionCluster.Shapes;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// Fits DiffAE's attribute directions (Preechakul et al.): one linear classifier per colour and shape in the
/// semantic latent z_i (the CLIP image embedding the 64px decoder reads), on labelled single-object renders of the
/// training split, with held-out accuracy measured on renders of the held-out split.
public sealed class AttributeDirectionsTrainer(ImageOperations operations, TextWriter log)
{
    /// One attribute's fit: how many training renders show it and the balanced accuracy (50% = chance) of its
    /// direction as a classifier, on training and on held-out renders.
    public sealed record Fit(string Attribute, int Positives, int TrainScenes, double TrainAccuracy, double HeldOutAccuracy);

    public static IReadOnlyList<string> AttributeNames =>
        Palette.Objects.Select(c => c.Name).Concat(Enum.GetValues<ShapeKind>().Select(s => s.ToString().ToLowerInvariant())).ToList();

    public (AttributeDirections Directions, IReadOnlyList<Fit> Fits) Train(int trainScenes, int heldOutScenes)
    {
        using var _ = no_grad();
        var train = Enumerable.Range(0, trainScenes).Select(i => SceneGenerator.Sample(2_000_000 + i, Split.Train, 1)).ToList();
        var heldOut = Enumerable.Range(0, heldOutScenes).Select(i => SceneGenerator.Sample(3_000_000 + i, Split.HeldOut, 1)).ToList();
        using var trainZ = Embed(train);
        using var heldOutZ = Embed(heldOut);
        var directions = new Dictionary<string, Tensor>();
        var fits = new List<Fit>();
        foreach (var attribute in AttributeNames)
        {
            using var labels = Labels(train, attribute);
            using var heldOutLabels = Labels(heldOut, attribute);
            Tensor direction;
            double trainAccuracy;
            using (enable_grad()) (direction, trainAccuracy) = AttributeDirections.Fit(trainZ, labels);
            // Held-out accuracy of the direction as a classifier, with the threshold that is best on training data.
            using var trainScores = trainZ.matmul(direction);
            using var heldOutScores = heldOutZ.matmul(direction);
            double threshold = BestThreshold(trainScores, labels);
            double heldOutAccuracy = AttributeDirections.BalancedAccuracy(heldOutScores > threshold, heldOutLabels);
            directions[attribute] = direction;
            fits.Add(new Fit(attribute, (int)labels.sum().item<float>(), train.Count, trainAccuracy, heldOutAccuracy));
            log.WriteLine($"attributes: {attribute}: train {trainAccuracy:P1}, held-out {heldOutAccuracy:P1}");
        }
        return (new AttributeDirections(directions), fits);
    }

    Tensor Embed(IReadOnlyList<Scene> scenes)
    {
        var parts = new List<Tensor>();
        for (int start = 0; start < scenes.Count; start += 64)
        {
            using var images = Renderer.RenderBatch(scenes.Skip(start).Take(64).ToList(), 64);
            parts.Add(operations.EmbedImages(images).cpu());
        }
        var all = cat(parts.ToArray());
        foreach (var p in parts) p.Dispose();
        return all;
    }

    /// 1 for each scene with an object of that colour or shape, else 0.
    public static Tensor Labels(IReadOnlyList<Scene> scenes, string attribute) =>
        tensor(scenes.Select(s => s.Objects.Any(o => o.Colour == attribute || o.Shape.ToString().Equals(attribute, StringComparison.OrdinalIgnoreCase)) ? 1f : 0f).ToArray());

    static double BestThreshold(Tensor scores, Tensor labels)
    {
        var s = scores.data<float>().ToArray();
        var y = labels.data<float>().ToArray();
        double positives = Math.Max(1, y.Count(v => v > 0.5f)), negatives = Math.Max(1, y.Count(v => v <= 0.5f));
        return s.Order().Select(t => (t, balanced: s.Zip(y).Count(p => p.First > t && p.Second > 0.5f) / positives
                                                  + s.Zip(y).Count(p => p.First <= t && p.Second <= 0.5f) / negatives))
            .MaxBy(x => x.balanced).t;
    }
}
