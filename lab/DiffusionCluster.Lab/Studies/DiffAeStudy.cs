using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;

namespace DiffusionCluster.Lab.Studies;

/// Diffusion-autoencoder manipulation (Preechakul et al.) on our cascade: the semantic latent is the CLIP
/// image embedding z_i the 64px decoder is conditioned on, the stochastic latent its DDIM-inverted x_T.
/// Measures on held-out scenes how often moving along a fitted direction (`train attributes`) changes the
/// attribute while the rest of the scene stays.
public sealed class DiffAeStudy(ImageOperations operations, TextWriter log)
{
    /// Class-mean directions, the alternative to the bundled classifier normals: for each attribute, normalise(mean z_i of
    /// the training renders that show it - mean z_i of those that do not), over `scenes` single-object training renders.
    public AttributeDirections ClassMeans(int scenes)
    {
        using var _ = no_grad();
        var train = Enumerable.Range(0, scenes).Select(i => SceneGenerator.Sample(2_000_000 + i, Split.Train, 1)).ToList();
        using var images = Renderer.RenderBatch(train, 64);
        using var z = operations.EmbedImages(images).cpu();
        var directions = new Dictionary<string, Tensor>();
        foreach (var attribute in Training.Trainers.AttributeDirectionsTrainer.AttributeNames)
        {
            using var scope = NewDisposeScope();
            var shows = Training.Trainers.AttributeDirectionsTrainer.Labels(train, attribute).unsqueeze(1);
            var inside = (z * shows).sum(0) / shows.sum();
            var outside = (z * (1 - shows)).sum(0) / (1 - shows).sum();
            directions[attribute] = nn.functional.normalize(inside - outside, dim: 0).MoveToOuterDisposeScope();
        }
        return new AttributeDirections(directions);
    }

    /// Held-out single-object scenes: recolour (or reshape) each object by moving z_i toward the target attribute and
    /// editing the render from its own z_i toward the moved one (ImageOperations.Manipulate, no caption). Changed: the
    /// parser sees the target attribute on the scene's main object; kept: background, cell and the other attribute.
    /// grid: filled with the render, the result at amount 1 and its mask, per scene and attribute kind.
    public StudyTable Measure(IReadOnlyList<BenchPrompt> scenes, AttributeDirections directions, IReadOnlyList<double> amounts, ContrastEditOptions edit,
        List<Tensor> grid)
    {
        using var _ = no_grad();
        var rows = new List<IReadOnlyList<string>>();
        int shapes = Enum.GetValues<ShapeKind>().Length;
        foreach (var kind in new[] { "colour", "shape" })
        {
            var changed = new int[amounts.Count];
            var kept = new int[amounts.Count];
            var masked = new double[amounts.Count];
            foreach (var prompt in scenes)
            {
                var source = prompt.Scene.Objects[0];
                var target = kind == "colour"
                    ? SceneAgreement.Recoloured(prompt.Scene, 0, prompt.Id).Objects[0]
                    : source with { Shape = (ShapeKind)(((int)source.Shape + 1 + prompt.Id % (shapes - 1)) % shapes) };
                string attribute = kind == "colour" ? target.Colour : target.Shape.ToString().ToLowerInvariant();
                using var render = Renderer.RenderTensor(prompt.Scene, 64).unsqueeze(0);
                for (int k = 0; k < amounts.Count; k++)
                {
                    using var result = operations.Manipulate(render, null, directions, attribute, amounts[k], edit, (ulong)prompt.Id);
                    var parsed = SceneParser.Parse(result.Images[0]);
                    var main = parsed.Objects.MaxBy(o => o.Area);
                    if (main is not null && (kind == "colour" ? main.Colour == target.Colour : main.Shape == target.Shape)) changed[k]++;
                    if (main is not null && parsed.Background == prompt.Scene.Background && main.Position == source.Position
                        && (kind == "colour" ? main.Shape == source.Shape : main.Colour == source.Colour)) kept[k]++;
                    masked[k] += result.Mask.mean().item<float>();
                    if (amounts[k] == 1)
                        grid.AddRange([render[0].clone(), result.Images[0].clone(), (result.Mask[0].expand(3, -1, -1) * 2 - 1).clone()]);
                }
            }
            for (int k = 0; k < amounts.Count; k++)
                rows.Add([kind, $"{amounts[k]:F2}", StudyReport.Percent(changed[k], scenes.Count), StudyReport.Percent(kept[k], scenes.Count), $"{100 * masked[k] / scenes.Count:F1}%"]);
            log.WriteLine($"diffae: {kind} changed {string.Join(", ", changed)}, kept {string.Join(", ", kept)} of {scenes.Count}");
        }
        return new StudyTable($"Attribute manipulation on {scenes.Count} held-out single-object scenes (no caption; edit strength {edit.Strength}, "
            + $"guidance {edit.Guidance} against the source's z_i, {edit.Steps} steps, mask from {edit.MaskDraws} draws at t = {edit.MaskLevel} T)",
            ["attribute changed", "amount (of the embedding norm)", "parser sees the target attribute", "background, cell and the other attribute kept", "image share edited (mask)"], rows,
            "Amount 0 leaves the image as it is. Colour targets are spread over the palette colours not in the scene; shape targets over the other shapes.");
    }
}
