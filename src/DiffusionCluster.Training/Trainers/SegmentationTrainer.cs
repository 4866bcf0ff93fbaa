using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Shapes;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Training.Trainers;

/// Label-efficient segmentation (Baranchuk et al.): a per-pixel classifier on the 64px decoder's activations (or,
/// as a baseline, raw pixels), trained on a few labelled renders of the Shapes world, whose renders come with exact
/// masks. Classes: background and the 8 shapes.
public sealed class SegmentationTrainer(Device device)
{
    public static readonly string[] Classes = ["background", .. Enum.GetValues<ShapeKind>().Select(s => s.ToString().ToLowerInvariant())];

    /// Labelled renders of the training split; held-out renders of the held-out split (disjoint seeds).
    public static IReadOnlyList<Scene> TrainScenes(int count) =>
        Enumerable.Range(0, count).Select(i => SceneGenerator.Sample(4_000_000 + i, Split.Train)).ToList();

    public static IReadOnlyList<Scene> HeldOutScenes(int count) =>
        Enumerable.Range(0, count).Select(i => SceneGenerator.Sample(5_000_000 + i, Split.HeldOut)).ToList();

    /// Trains a classifier on the labelled renders: all object pixels and backgroundPixelsPerImage background ones.
    public Segmenter Train(ImageSampler? decoder, SegmentationConfig config, IReadOnlyList<Scene> labelled, int steps, ulong seed,
        int backgroundPixelsPerImage = 512)
    {
        Diffusion.TorchRuntime.PrepareForTraining();
        if (labelled.Count < config.Classes.Length)
            throw new ArgumentException($"{labelled.Count} labelled images for {config.Classes.Length} classes; label at least one image per class ({config.Classes.Length})");
        // No scope around the classifier and optimizer: a dispose scope would free their weights and state.
        var (pixels, labels) = Pixels(decoder, config, labelled, backgroundPixelsPerImage, seed);
        using var _ = pixels;
        using var __ = labels;
        config = config with { InChannels = (int)pixels.shape[1] };
        var classifier = new PixelClassifier(config);
        classifier.to(device);
        classifier.Standardise(pixels);
        var generator = new Generator(seed);
        var optimizer = optim.Adam(classifier.parameters(), lr: 2e-3);
        long count = pixels.shape[0];
        for (int step = 0; step < steps; step++)
        {
            using var inner = NewDisposeScope();
            var pick = randint(0, count, new long[] { Math.Min(4096, count) }, generator: generator).to(device);
            optimizer.zero_grad();
            var logits = classifier.forward(pixels[pick].unsqueeze(-1).unsqueeze(-1)).flatten(1);
            var loss = F.cross_entropy(logits, labels[pick]);
            loss.backward();
            optimizer.step();
        }
        classifier.eval();
        return new Segmenter(decoder, classifier);
    }

    /// Labelled pixels as rows [P, C] with their classes [P].
    (Tensor Pixels, Tensor Labels) Pixels(ImageSampler? decoder, SegmentationConfig config, IReadOnlyList<Scene> scenes, int backgroundPerImage, ulong seed)
    {
        var random = new Random((int)seed);
        var rows = new List<Tensor>();
        var classes = new List<long>();
        foreach (var scene in scenes)
        {
            using var scope = NewDisposeScope();
            var image = Renderer.RenderTensor(scene, 64).unsqueeze(0).to(device);
            var features = Segmenter.Features(decoder, config, image)[0].flatten(1).t(); // [4096, C]
            var truth = Renderer.Labels(scene, 64);
            var background = Enumerable.Range(0, truth.Length).Where(i => truth[i] == 0).OrderBy(_ => random.Next()).Take(backgroundPerImage);
            var chosen = Enumerable.Range(0, truth.Length).Where(i => truth[i] != 0).Concat(background).ToArray();
            rows.Add(features[tensor(chosen.Select(i => (long)i).ToArray(), device: device)].MoveToOuterDisposeScope());
            classes.AddRange(chosen.Select(i => (long)truth[i]));
        }
        var pixels = cat(rows.ToArray());
        foreach (var r in rows) r.Dispose();
        return (pixels, tensor(classes.ToArray(), device: device));
    }

    /// The trivial answer's score: every pixel background gives the background's IoU, averaged over the classes present.
    public static double AllBackgroundIou(IReadOnlyList<Scene> scenes)
    {
        var labels = scenes.SelectMany(s => Renderer.Labels(s, 64)).ToArray();
        return labels.Count(l => l == 0) / (double)labels.Length / labels.Distinct().Count();
    }

    /// Mean over classes of intersection / union, summed over every held-out render's exact mask.
    public static double MeanIou(Segmenter segmenter, IReadOnlyList<Scene> scenes)
    {
        int k = segmenter.Config.Classes.Length;
        var intersection = new long[k];
        var union = new long[k];
        foreach (var scene in scenes)
        {
            using var image = Renderer.RenderTensor(scene, 64).unsqueeze(0);
            using var predicted = segmenter.Predict(image);
            var p = predicted.cpu().data<long>().ToArray();
            var truth = Renderer.Labels(scene, 64);
            if (p.Length != truth.Length) throw new ArgumentException($"the predicted mask has {p.Length} pixels; the label mask {truth.Length}");
            for (int i = 0; i < truth.Length; i++)
            {
                if (p[i] == truth[i]) intersection[truth[i]]++;
                union[truth[i]]++;
                if (p[i] != truth[i]) union[p[i]]++;
            }
        }
        var present = Enumerable.Range(0, k).Where(c => union[c] > 0).ToList();
        return present.Average(c => (double)intersection[c] / union[c]);
    }
}
