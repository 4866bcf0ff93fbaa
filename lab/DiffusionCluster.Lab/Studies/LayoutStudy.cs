using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Trainers;
using static TorchSharp.torch;

namespace DiffusionCluster.Lab.Studies;

/// Where layout and shape are lost between a caption and a 64 px image. (1) Does the conditioning say where the
/// object is? A linear probe (least squares on the one-hot 3x3 place) reads the place of single-object scenes from
/// CLIP image embeddings of renders, from CLIP text embeddings of captions, and from the prior's samples, and
/// another reads the shape from both embeddings and from the mean of the caption's token features. (2) Does
/// the decoder use it? Its estimate of x0 from (almost) pure noise, given a scene's exact embedding and caption,
/// should already show the objects where they are: the strongest of the 3x3 cells (colour away from the
/// background) should hold an object far more often than chance. A caption fixes each object's shape too (objects
/// sit at their cell's centre at a fixed size per size word), so the scene parser should read the right shapes
/// from that estimate. (3) For two-object scenes, does each embedding carry both places and which colour sits where
/// (TwoObjectPlaceProbe)?
public sealed class LayoutStudy(string modelFolder, Device device, TextWriter log)
{
    const int ProbeSeed = 4_000_000, HeldOutSeed = 5_000_000;

    readonly TrainingContext _context = new(modelFolder, device, needsImageEncoder: true);
    // Loaded once, on first use: both the single- and the two-object probes sample it.
    readonly Lazy<Models.Cascade.PriorSampler> _prior = new(() => new Models.Cascade.PriorSampler(modelFolder, device));

    public StudyReport Run(int probeScenes, int heldOutScenes, int priorScenes, int decoderScenes, string command)
    {
        using var _ = no_grad();
        var report = new StudyReport("Where layout and shape are lost", command);
        foreach (var table in Probe(probeScenes, heldOutScenes, priorScenes)) report.Add(table);
        report.Add(DecoderLayout(decoderScenes));
        return report;
    }

    IEnumerable<StudyTable> Probe(int trainCount, int heldOutCount, int priorCount)
    {
        var train = Scenes(ProbeSeed, trainCount, Split.Train);
        var heldOut = Scenes(HeldOutSeed, heldOutCount, Split.HeldOut);
        log.WriteLine($"layout: embedding {trainCount} + {heldOutCount} single-object scenes");
        var (trainImages, trainText, trainTokens) = Embed(train);
        var (heldOutImages, heldOutText, heldOutTokens) = Embed(heldOut);
        using var places = tensor(train.Select(s => (long)s.Scene.Objects[0].Position).ToArray());
        var truth = heldOut.Select(s => (long)s.Scene.Objects[0].Position).ToArray();
        using var imageProbe = FitProbe(trainImages, places);
        using var textProbe = FitProbe(trainText, places);
        // The prior is the slow part (25 guided steps over 48 text tokens per sample), so it gets the first few.
        log.WriteLine($"layout: sampling the prior for {priorCount} held-out captions");
        using var prior = SamplePrior(heldOut.Take(priorCount).Select(s => s.Caption).ToList());
        var rows = new List<IReadOnlyList<string>>
        {
            Row("CLIP image embedding of the render", imageProbe, heldOutImages, truth),
            Row("CLIP text embedding of the caption", textProbe, heldOutText, truth),
            Row("the prior's sample for the caption (default sampling; image-embedding probe)", imageProbe, prior, truth[..priorCount]),
        };
        yield return new StudyTable($"Linear probe for the 3x3 place ({trainCount} training renders, {heldOutCount} held-out, the prior on the first {priorCount})",
            ["embedding", "place read correctly"], rows, "Chance is 11.1% (9 places).");

        // The decoder's layout map reads z_i and the mean caption token; which of them says what shape to draw?
        int kinds = Enum.GetValues<ShapeKind>().Length;
        using var shapes = tensor(train.Select(s => (long)s.Scene.Objects[0].Shape).ToArray());
        var shapeTruth = heldOut.Select(s => (long)s.Scene.Objects[0].Shape).ToArray();
        using var imageShape = FitProbe(trainImages, shapes, kinds);
        using var textShape = FitProbe(trainText, shapes, kinds);
        using var tokenShape = FitProbe(trainTokens, shapes, kinds);
        yield return new StudyTable($"Linear probe for the shape ({trainCount} training renders, {heldOutCount} held-out, the prior on the first {priorCount})",
            ["embedding", "shape read correctly"],
            [
                Row("CLIP image embedding of the render", imageShape, heldOutImages, shapeTruth),
                Row("CLIP text embedding of the caption", textShape, heldOutText, shapeTruth),
                Row("mean of the caption's token features (the text encoder's last layer)", tokenShape, heldOutTokens, shapeTruth),
                Row("the prior's sample for the caption (default sampling; image-embedding probe)", imageShape, prior, shapeTruth[..priorCount]),
            ],
            $"Chance is {100.0 / kinds:F1}% ({kinds} shapes).");
        yield return TwoObjectPlaces(trainCount, heldOutCount, priorCount);
    }

    /// The decoder draws two-object layouts far worse than single ones (ShapeBench): do the embeddings it reads carry
    /// both places, and do the prior's samples?
    StudyTable TwoObjectPlaces(int trainCount, int heldOutCount, int priorCount)
    {
        using var scope = NewDisposeScope();
        var train = Scenes(ProbeSeed, trainCount, Split.Train, objects: 2);
        var heldOut = Scenes(HeldOutSeed, heldOutCount, Split.HeldOut, objects: 2);
        log.WriteLine($"layout: embedding {trainCount} + {heldOutCount} two-object scenes");
        var (trainImages, trainText, trainTokens) = Embed(train);
        var (heldOutImages, heldOutText, heldOutTokens) = Embed(heldOut);
        var targets = TwoObjectPlaceProbe.Targets(train.Select(s => s.Scene).ToList());
        var scenes = heldOut.Select(s => s.Scene).ToList();
        var imageProbe = FitTargets(trainImages, targets);
        log.WriteLine($"layout: sampling the prior for {priorCount} held-out two-object captions");
        var prior = SamplePrior(heldOut.Take(priorCount).Select(s => s.Caption).ToList());
        IReadOnlyList<string> TwoObjectRow(string name, Tensor probe, Tensor features, List<Scene> truth)
        {
            var (both, placed) = TwoObjectPlaceProbe.Score(probe, features, truth);
            return [name, StudyReport.Percent(both, truth.Count), StudyReport.Percent(placed, 2 * truth.Count)];
        }
        return new StudyTable($"Linear probe for the places of two-object scenes ({trainCount} training renders, {heldOutCount} held-out, the prior on the first {priorCount})",
            ["embedding", "both places read", "each object's place read from its colour"],
            [
                TwoObjectRow("CLIP image embedding of the render", imageProbe, heldOutImages, scenes),
                TwoObjectRow("CLIP text embedding of the caption", FitTargets(trainText, targets), heldOutText, scenes),
                TwoObjectRow("mean of the caption's token features (the text encoder's last layer)", FitTargets(trainTokens, targets), heldOutTokens, scenes),
                TwoObjectRow("the prior's sample for the caption (default sampling; image-embedding probe)", imageProbe, prior, scenes[..priorCount]),
            ],
            "Chance is 2.8% for both places (36 pairs of places) and 11.1% for one object's place. The probe maps the embedding " +
            "to the 8 colours x 9 places grid of the scene; the two strongest places summed over colours must be the scene's two " +
            "places, and the strongest place in an object's colour row must be its place.");
    }

    /// The prior's samples (default sampling, seeds 0..n-1) for captions: the slow part, 25 guided steps per sample.
    Tensor SamplePrior(List<string> captions)
    {
        using var text = _context.EncodeText(captions);
        return _prior.Value.Sample(text, Enumerable.Range(0, captions.Count).Select(i => (ulong)i).ToList(), SamplingOptions.Default);
    }

    StudyTable DecoderLayout(int count)
    {
        var decoder = CascadeFolder.LoadUNet(modelFolder, CascadeFolder.Decoder64, device);
        decoder.eval();
        var schedule = decoder.Config.Diffusion.BuildSchedule();
        var batch = ShapesBatch.Draw(count, new Generator(77));
        int size = decoder.Config.SampleSize, channels = decoder.Config.InChannels;
        using var images = batch.Images(size, device);
        using var text = _context.EncodeText(batch.Captions);
        using var embedding = _context.ImageEmbedding(size == 64 ? images : batch.Images(64, device)); // CLIP sees 64 px
        double chance = batch.Scenes.Average(s => s.Objects.Count / 9.0);
        var rows = new List<IReadOnlyList<string>>();
        int objects = batch.Scenes.Sum(s => s.Objects.Count);
        // The pure-noise end of the schedule, then 95%, 90% and 80% of the way (999, 950, 900, 800 for 1000 steps).
        int last = schedule.Length - 1, t95 = schedule.Length * 95 / 100, t90 = schedule.Length * 90 / 100, t80 = schedule.Length * 80 / 100;
        foreach (int t in new[] { last, t95, t90, t80 })
        {
            using var scope = NewDisposeScope();
            var steps = full(new long[] { count }, t, int64, device);
            var alphaBar = schedule.AlphaBarFor(steps, 4, device);
            var noised = NoiseSchedule.AddNoise(images, randn(images.shape, generator: new Generator(5)).to(device), alphaBar);
            var output = decoder.forward(noised, steps, new UNetConditioning(text, embedding));
            var (x0, _) = Parameterization.ToX0AndEps(decoder.Config.Diffusion.Prediction, output[.., ..channels], noised, alphaBar);
            int hits = Enumerable.Range(0, count).Count(i => batch.Scenes[i].Objects.Any(o => (int)o.Position == StrongestCell(x0[i], batch.Scenes[i].Background)));
            int shapes = Enumerable.Range(0, count).Sum(i => ShapesReadCorrectly(batch.Scenes[i], SceneParser.Parse(x0[i])));
            rows.Add([$"{t} (SNR {schedule.AlphaBar(t) / (1 - schedule.AlphaBar(t)):G2})", StudyReport.Percent(hits, count), StudyReport.Percent(chance),
                StudyReport.Percent(shapes, objects)]);
        }
        rows.Add(CaptionShapeRow(decoder, schedule, batch, embedding, last));
        return new StudyTable($"The decoder's estimate of x0 given each scene's exact embedding and caption ({count} training scenes)",
            ["timestep", "strongest 3x3 cell holds an object", "chance", $"shape read correctly ({objects} objects)"], rows,
            $"At timestep {last} the input is pure noise (zero terminal SNR), so only the conditioning can say where objects are " +
            $"and what shape they have; from {t95} down the noisy image itself starts to show them. Shapes are matched to the " +
            "scene's objects by colour, as ShapeBench does; chance for shape is 12.5% (8 shapes) of the objects the parser finds. " +
            "The last row gives the decoder the same z_i with a caption of the scene with every shape moved to the next kind: " +
            "the shapes it draws then follow the caption as far as it reads shape from text rather than from z_i.");
    }

    /// The estimate from pure noise, z_i of the render kept, captioned as the scene with every shape changed: how many
    /// objects take the caption's shape.
    IReadOnlyList<string> CaptionShapeRow(UNet decoder, NoiseSchedule schedule, ShapesBatch batch, Tensor embedding, int t)
    {
        using var scope = NewDisposeScope();
        int kinds = Enum.GetValues<ShapeKind>().Length, count = batch.Scenes.Count, channels = decoder.Config.InChannels, size = decoder.Config.SampleSize;
        var changed = batch.Scenes.Select(s => s with { Objects = s.Objects.Select(o => o with { Shape = (ShapeKind)(((int)o.Shape + 1) % kinds) }).ToList() }).ToList();
        using var text = _context.EncodeText(changed.Select((s, i) => Captioner.Describe(s, new Random(i)).Text).ToList());
        var steps = full(new long[] { count }, t, int64, device);
        var alphaBar = schedule.AlphaBarFor(steps, 4, device);
        // Pure noise from the same generator as the t = T row above, so only the caption differs from it.
        var noised = randn(new long[] { count, channels, size, size }, generator: new Generator(5)).to(device);
        var output = decoder.forward(noised, steps, new UNetConditioning(text, embedding));
        var (x0, _) = Parameterization.ToX0AndEps(decoder.Config.Diffusion.Prediction, output[.., ..channels], noised, alphaBar);
        int shapes = Enumerable.Range(0, count).Sum(i => ShapesReadCorrectly(changed[i], SceneParser.Parse(x0[i])));
        return [$"{t}, caption names the next shape kind, z_i of the render", "", "", StudyReport.Percent(shapes, batch.Scenes.Sum(s => s.Objects.Count))];
    }

    /// How many of the scene's objects the parser finds (by colour) with the right shape.
    internal static int ShapesReadCorrectly(Scene scene, ParsedScene parsed) =>
        scene.Objects.Zip(CaptionScore.MatchByColour(scene, parsed)).Count(pair => pair.Second?.Shape == pair.First.Shape);

    /// The 3x3 cell whose pixels differ most from the background colour.
    internal static int StrongestCell(Tensor x0, string background)
    {
        using var scope = NewDisposeScope();
        var (r, g, b) = Palette.Background(background).Linear;
        var colour = tensor(new[] { (float)r, (float)g, (float)b }).view(3, 1, 1).to(x0.device) * 2 - 1;
        var away = (x0 - colour).abs().sum(new long[] { 0 });
        int size = (int)away.shape[0];
        var cells = new double[9];
        for (int row = 0; row < 3; row++)
        for (int column = 0; column < 3; column++)
            cells[row * 3 + column] = away[(row * size / 3)..((row + 1) * size / 3), (column * size / 3)..((column + 1) * size / 3)].mean().item<float>();
        return Array.IndexOf(cells, cells.Max());
    }

    static List<(Scene Scene, string Caption)> Scenes(int seed, int count, Split split, int objects = 1) =>
        Enumerable.Range(seed, count).Select(s =>
        {
            var scene = SceneGenerator.Sample(s, split, objects);
            return (scene, Captioner.Describe(scene, new Random(s)).Text);
        }).ToList();

    (Tensor Images, Tensor Text, Tensor TokenMean) Embed(List<(Scene Scene, string Caption)> scenes)
    {
        var images = new List<Tensor>();
        var text = new List<Tensor>();
        var tokens = new List<Tensor>();
        foreach (var chunk in scenes.Chunk(100))
        {
            using var renders = Renderer.RenderBatch(chunk.Select(s => s.Scene).ToList(), 64).to(device);
            images.Add(_context.ImageEmbedding(renders));
            using var encoded = _context.EncodeText(chunk.Select(s => s.Caption).ToList());
            text.Add(encoded.Pooled.clone());
            tokens.Add(encoded.MeanToken());
        }
        return (cat(images.ToArray()), cat(text.ToArray()), cat(tokens.ToArray()));
    }

    /// Least squares (slightly ridged) from [embedding, 1] to the one-hot class (by default the 3x3 place).
    internal static Tensor FitProbe(Tensor features, Tensor labels, int classes = 9)
    {
        using var targets = nn.functional.one_hot(labels, classes).to(float64);
        return FitTargets(features, targets);
    }

    /// Least squares (slightly ridged) from [embedding, 1] to any target rows.
    internal static Tensor FitTargets(Tensor features, Tensor targetRows)
    {
        using var scope = NewDisposeScope();
        var a = WithBias(features);
        var targets = targetRows.to(float64).to(a.device);
        var gram = a.T.matmul(a) + 1e-3 * eye(a.shape[1], dtype: float64, device: a.device);
        return linalg.solve(gram, a.T.matmul(targets)).MoveToOuterDisposeScope();
    }

    internal static Tensor WithBias(Tensor features) => cat(new[] { features.to(float64), ones(features.shape[0], 1, dtype: float64, device: features.device) }, 1);

    internal static IReadOnlyList<string> Row(string name, Tensor probe, Tensor features, long[] truth)
    {
        using var scope = NewDisposeScope();
        var predicted = WithBias(features).matmul(probe).argmax(1).cpu().data<long>().ToArray();
        return [name, StudyReport.Percent(predicted.Zip(truth).Count(p => p.First == p.Second), truth.Length)];
    }
}
