using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;

namespace DiffusionCluster.Lab.Studies;

/// The 64 px decoder's one-step clean estimate at one timestep, over a set of prompts: PSNR against the exact render,
/// PSNR inside the objects' bounding boxes alone (where shapes differ), and the shares of objects whose shape and whose
/// place the scene parser reads from the estimate (place matters with two or three objects).
public sealed record DecoderTimestepQuality(int Timestep, double Psnr, double ObjectPsnr, double ShapeFound, double PositionFound);

/// Measures how well the decoder denoises the exact render of each prompt, conditioned as in training on CLIP's
/// embedding of that render and the prompt (guidance 1). A decoder that loses a shape at a middle timestep, where the
/// noisy image still shows it, will lose it in every sample that passes there.
public sealed class DecoderDenoising(CascadePipeline pipeline, ImageEncoder clipImage)
{
    public IReadOnlyList<DecoderTimestepQuality> Measure(IReadOnlyList<BenchPrompt> prompts, IReadOnlyList<int> timesteps)
    {
        using var _ = no_grad();
        // Sums over prompts (PSNRs) and over objects (shapes and places found), one entry per timestep.
        double[] psnr = new double[timesteps.Count], objectPsnr = new double[timesteps.Count];
        double[] shapes = new double[timesteps.Count], places = new double[timesteps.Count];
        int objects = 0;
        foreach (var p in prompts)
        {
            using var scope = NewDisposeScope();
            var render = Renderer.RenderTensor(p.Scene, 64).unsqueeze(0).to(pipeline.Device);
            var inBoxes = (tensor(Renderer.ObjectBoxes(p.Scene, 64)).view(1, 1, 64, 64).to(pipeline.Device) > 0.5f).expand_as(render);
            var renderInBoxes = render.masked_select(inBoxes);
            using var text = pipeline.Text.Encode([p.Prompt]);
            var embedding = ClipSpace.Normalise(clipImage.forward(render));
            objects += p.Scene.Objects.Count;
            for (int i = 0; i < timesteps.Count; i++)
            {
                var estimate = pipeline.Decoder.EstimateClean(text, embedding, null, render, timesteps[i], [(ulong)p.Id]);
                psnr[i] += ImageQuality.Psnr(estimate, render);
                objectPsnr[i] += ImageQuality.Psnr(estimate.masked_select(inBoxes), renderInBoxes);
                var score = CaptionScore.Of(p.Caption, SceneParser.Parse(estimate[0]));
                shapes[i] += score.ShapeCorrect;
                places[i] += score.PositionCorrect;
            }
        }
        double n = Math.Max(1, prompts.Count), objectCount = Math.Max(1, objects);
        return timesteps.Select((t, i) => new DecoderTimestepQuality(t, psnr[i] / n, objectPsnr[i] / n, shapes[i] / objectCount, places[i] / objectCount)).ToList();
    }

    public static IEnumerable<string> Rows(IReadOnlyList<DecoderTimestepQuality> rows) =>
        new[] { "| t | PSNR | PSNR inside object boxes | shape found | position found |", "|---:|---:|---:|---:|---:|" }
            .Concat(rows.Select(r => $"| {r.Timestep} | {r.Psnr:F2} dB | {r.ObjectPsnr:F2} dB | {100 * r.ShapeFound:F1}% | {100 * r.PositionFound:F1}% |"));
}
