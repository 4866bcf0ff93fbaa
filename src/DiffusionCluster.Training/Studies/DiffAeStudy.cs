using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Studies;

/// Diffusion-autoencoder manipulation (Preechakul et al.) on our cascade: the semantic latent is the CLIP
/// image embedding z_i the 64px decoder is conditioned on, the stochastic latent its DDIM-inverted x_T.
/// Fits one linear direction per attribute (8 colours, 8 shapes) on labelled single-object renders of the
/// training split, then measures on held-out scenes how often moving along it changes the attribute while
/// the rest of the scene stays.
public sealed class DiffAeStudy(ImageOperations operations, TextWriter log)
{
    public static IReadOnlyList<string> AttributeNames =>
        Palette.Objects.Select(c => c.Name).Concat(Enum.GetValues<ShapeKind>().Select(s => s.ToString().ToLowerInvariant())).ToList();

    public (AttributeDirections Directions, StudyTable Table) Fit(int trainScenes, int heldOutScenes)
    {
        using var _ = no_grad();
        var train = Enumerable.Range(0, trainScenes).Select(i => SceneGenerator.Sample(2_000_000 + i, Split.Train, 1)).ToList();
        var heldOut = Enumerable.Range(0, heldOutScenes).Select(i => SceneGenerator.Sample(3_000_000 + i, Split.HeldOut, 1)).ToList();
        using var trainZ = Embed(train);
        using var heldOutZ = Embed(heldOut);
        var directions = new Dictionary<string, Tensor>();
        var rows = new List<IReadOnlyList<string>>();
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
            rows.Add([attribute, $"{(int)labels.sum().item<float>()}/{train.Count}", StudyReport.Percent(trainAccuracy), StudyReport.Percent(heldOutAccuracy)]);
            log.WriteLine($"diffae: {attribute}: train {trainAccuracy:P1}, held-out {heldOutAccuracy:P1}");
        }
        var table = new StudyTable($"Attribute directions: linear classifiers in z_i ({train.Count} labelled training renders, {heldOut.Count} held-out)",
            ["attribute", "positives", "balanced training accuracy", "balanced held-out accuracy"], rows,
            "Each direction is the unit normal of a class-weighted logistic regression of \"the object is <attribute>\" on z_i of single-object renders. Balanced accuracy is the mean of the true-positive and true-negative rates (50% = chance).");
        return (new AttributeDirections(directions), table);
    }

    /// Held-out single-object scenes: recolour (or reshape) each object by moving z_i toward the target
    /// attribute, x_T kept. Changed: the parser sees the target attribute on the scene's main object; kept:
    /// background, cell and the other attribute unchanged.
    public StudyTable Measure(IReadOnlyList<BenchPrompt> scenes, AttributeDirections directions, IReadOnlyList<double> amounts, int inversionSteps)
    {
        using var _ = no_grad();
        var rows = new List<IReadOnlyList<string>>();
        foreach (var kind in new[] { "colour", "shape" })
        {
            var changed = new int[amounts.Count];
            var kept = new int[amounts.Count];
            foreach (var prompt in scenes)
            {
                var source = prompt.Scene.Objects[0];
                var target = kind == "colour"
                    ? SceneAgreement.Recoloured(prompt.Scene, 0).Objects[0]
                    : source with { Shape = (ShapeKind)(((int)source.Shape + 1) % Enum.GetValues<ShapeKind>().Length) };
                string attribute = kind == "colour" ? target.Colour : target.Shape.ToString().ToLowerInvariant();
                using var render = Renderer.RenderTensor(prompt.Scene, 64).unsqueeze(0);
                using var latent = operations.Encode(render, null, inversionSteps);
                using var results = operations.Manipulate(latent, directions, attribute, amounts);
                for (int k = 0; k < amounts.Count; k++)
                {
                    var parsed = SceneParser.Parse(results[k]);
                    var main = parsed.Objects.MaxBy(o => o.Area);
                    if (main is not null && (kind == "colour" ? main.Colour == target.Colour : main.Shape == target.Shape)) changed[k]++;
                    if (main is not null && parsed.Background == prompt.Scene.Background && main.Position == source.Position
                        && (kind == "colour" ? main.Shape == source.Shape : main.Colour == source.Colour)) kept[k]++;
                }
            }
            for (int k = 0; k < amounts.Count; k++)
                rows.Add([kind, $"{amounts[k]:F2}", StudyReport.Percent(changed[k], scenes.Count), StudyReport.Percent(kept[k], scenes.Count)]);
            log.WriteLine($"diffae: {kind} changed {string.Join(", ", changed)} of {scenes.Count}");
        }
        return new StudyTable($"Attribute manipulation on {scenes.Count} held-out single-object scenes (x_T from {inversionSteps}-step DDIM inversion, no caption)",
            ["attribute changed", "amount (of the embedding norm)", "parser sees the target attribute", "background, cell and the other attribute kept"], rows,
            "Amount 0 is the plain reconstruction. Colour targets are the first palette colour not in the scene; shape targets the next shape kind.");
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

    static Tensor Labels(IReadOnlyList<Scene> scenes, string attribute) =>
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
