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
}
