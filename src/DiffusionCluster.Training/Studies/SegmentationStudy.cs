using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Shapes;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Training.Studies;

/// Label-efficient segmentation (Baranchuk et al.) on the Shapes world, whose renders come with exact masks:
/// a per-pixel classifier trained on 10, 20 and 50 labelled renders, on the 64px decoder's activations and,
/// as the baseline, on raw pixels; mean IoU over the classes (background and the 8 shapes) on held-out renders.
public sealed class SegmentationStudy(CascadePipeline cascade, TextWriter log)
{
    public static readonly string[] Classes = ["background", .. Enum.GetValues<ShapeKind>().Select(s => s.ToString().ToLowerInvariant())];

    public sealed record Options(int[] Labelled, int HeldOut = 50, int Steps = 800, int BackgroundPixelsPerImage = 512,
        int[]? Timesteps = null, int[]? Blocks = null);

    public (StudyTable Table, Segmenter Best) Run(Options options)
    {
        var trainScenes = Enumerable.Range(0, options.Labelled.Max()).Select(i => SceneGenerator.Sample(4_000_000 + i, Split.Train)).ToList();
        var heldOut = Enumerable.Range(0, options.HeldOut).Select(i => SceneGenerator.Sample(5_000_000 + i, Split.HeldOut)).ToList();
        var rows = new List<IReadOnlyList<string>>();
        Segmenter? best = null;
        var sources = new (string Name, SegmentationConfig Config)[]
        {
            ("decoder features", new SegmentationConfig
            {
                Classes = Classes, Timesteps = options.Timesteps ?? new SegmentationConfig().Timesteps, Blocks = options.Blocks ?? new SegmentationConfig().Blocks,
            }),
            ("raw pixels", new SegmentationConfig { Classes = Classes, Timesteps = [], Blocks = [], InChannels = 3 }),
        };
        var results = new Dictionary<(string, int), double>();
        foreach (var (name, config) in sources)
        {
            var decoder = config.UsesDecoder ? cascade.Decoder : null;
            foreach (var n in options.Labelled)
            {
                var segmenter = Train(decoder, config, trainScenes.Take(n).ToList(), options, seed: (ulong)n);
                results[(name, n)] = MeanIou(segmenter, heldOut);
                log.WriteLine($"segmentation: {name}, {n} labelled: mean IoU {results[(name, n)]:P1}");
                if (config.UsesDecoder && n == options.Labelled.Max()) best = segmenter;
            }
        }
        foreach (var n in options.Labelled)
            rows.Add([$"{n}", StudyReport.Percent(results[(sources[0].Name, n)]), StudyReport.Percent(results[(sources[1].Name, n)])]);
        var table = new StudyTable($"Mean IoU on {options.HeldOut} held-out renders ({Classes.Length} classes: background and 8 shapes)",
            ["labelled training images", $"decoder features (64px U-Net, t = {string.Join(", ", sources[0].Config.Timesteps)}, blocks {string.Join(", ", sources[0].Config.Blocks)})",
             "raw pixels (same classifier)"], rows,
            "Per-pixel MLP (64 hidden units) on standardised features; mean IoU over the classes, intersections and unions summed over the held-out set. " +
            $"Answering \"background\" everywhere scores {StudyReport.Percent(AllBackgroundIou(heldOut))} on the same renders.");
        return (table, best!);
    }

    /// Trains a classifier on the labelled renders: all object pixels and a sample of background pixels.
    public Segmenter Train(ImageStage? decoder, SegmentationConfig config, IReadOnlyList<Scene> labelled, Options options, ulong seed)
    {
        if (labelled.Count < config.Classes.Length)
            throw new ArgumentException($"{labelled.Count} labelled images for {config.Classes.Length} classes; label at least one image per class ({config.Classes.Length})");
        // No scope around the classifier and optimizer: a dispose scope would free their weights and state.
        var (pixels, labels) = Pixels(decoder, config, labelled, options.BackgroundPixelsPerImage, seed);
        using var _ = pixels;
        using var __ = labels;
        config = config with { InChannels = (int)pixels.shape[1] };
        var classifier = new PixelClassifier(config);
        classifier.to(cascade.Device);
        classifier.Standardise(pixels);
        var generator = new Generator(seed);
        var optimizer = optim.Adam(classifier.parameters(), lr: 2e-3);
        long count = pixels.shape[0];
        for (int step = 0; step < options.Steps; step++)
        {
            using var inner = NewDisposeScope();
            var pick = randint(0, count, new long[] { Math.Min(4096, count) }, generator: generator).to(cascade.Device);
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
    (Tensor Pixels, Tensor Labels) Pixels(ImageStage? decoder, SegmentationConfig config, IReadOnlyList<Scene> scenes, int backgroundPerImage, ulong seed)
    {
        var random = new Random((int)seed);
        var rows = new List<Tensor>();
        var classes = new List<long>();
        foreach (var scene in scenes)
        {
            using var scope = NewDisposeScope();
            var image = Renderer.RenderTensor(scene, 64).unsqueeze(0).to(cascade.Device);
            var features = Segmenter.Features(decoder, config, image)[0].flatten(1).t(); // [4096, C]
            var truth = Renderer.Labels(scene, 64);
            var background = Enumerable.Range(0, truth.Length).Where(i => truth[i] == 0).OrderBy(_ => random.Next()).Take(backgroundPerImage);
            var chosen = Enumerable.Range(0, truth.Length).Where(i => truth[i] != 0).Concat(background).ToArray();
            rows.Add(features[tensor(chosen.Select(i => (long)i).ToArray(), device: cascade.Device)].MoveToOuterDisposeScope());
            classes.AddRange(chosen.Select(i => (long)truth[i]));
        }
        var pixels = cat(rows.ToArray());
        foreach (var r in rows) r.Dispose();
        return (pixels, tensor(classes.ToArray(), device: cascade.Device));
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
