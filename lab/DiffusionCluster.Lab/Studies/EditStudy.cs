using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Lab.Studies;

/// Measures the image operations on held-out ShapeBench scenes with the bundled cascade: reconstruction from
/// the bipartite latent, variations, text diffs, inpainting and uncropping, SDEdit from crude sketches and
/// ILVR. Every figure is computed from exact renders and the scene parser.
public sealed class EditStudy(ImageOperations operations, TextWriter log)
{
    public sealed record Options(int Scenes = 12, int InversionSteps = InvertingOperation.DefaultInversionSteps, int Variations = 4, SamplingOptions? Decoder = null,
        ContrastEditOptions? Edit = null, IReadOnlySet<string>? Parts = null, IReadOnlyList<double>? LayoutShares = null,
        IReadOnlyList<int>? ReconstructionSteps = null);

    /// The study's parts, in the order they run; Options.Parts picks some (all by default).
    public static readonly string[] AllParts = ["reconstruction", "variations", "interpolation", "textdiff", "inpainting", "sdedit"];

    public StudyReport Run(IReadOnlyList<BenchPrompt> prompts, Options options, string command, string outputFolder)
    {
        using var _ = no_grad();
        var decoder = options.Decoder ?? SamplingOptions.Default;
        var report = new StudyReport("Image operations on held-out scenes", command);
        var scenes = prompts.Take(options.Scenes).ToList();
        var device = operations.Cascade.Device;
        using var renders = Renderer.RenderBatch(scenes.Select(p => p.Scene).ToList(), 64).to(device);
        var grid = new List<Tensor>();

        bool Runs(string part) => options.Parts is null || options.Parts.Contains(part);
        var rows = new List<IReadOnlyList<string>>();

        // 1. Bipartite latents: encode (z_i, DDIM-inverted x_T) and decode back.
        using var captions = operations.Cascade.Text.Encode(scenes.Select(p => p.Prompt).ToList());
        if (Runs("reconstruction")) {
        foreach (int steps in options.ReconstructionSteps ?? [options.InversionSteps])
        foreach (var (label, text) in new[] { ("with the caption", captions), ("without a caption (z_i alone)", (Models.Networks.TextEncoding?)null) })
        {
            using var latent = operations.Encode(renders, text, steps);
            using var decoded = operations.Decode(latent);
            var psnr = Enumerable.Range(0, scenes.Count).Select(i => ImageQuality.Psnr(decoded[i], renders[i])).ToList();
            rows.Add([label, $"{steps}", $"{psnr.Average():F2} dB", $"{psnr.Min():F2} dB", $"{psnr.Count(p => p >= 30)}/{psnr.Count}"]);
            report.Figure($"reconstruction_psnr_{(text is null ? "uncaptioned" : "captioned")}_{steps}", psnr.Average());
            if (text is not null && steps == options.InversionSteps)
                grid.AddRange(Enumerable.Range(0, Math.Min(4, scenes.Count)).SelectMany(i => new[] { renders[i].clone(), decoded[i].clone() }));
            log.WriteLine($"study edits: reconstruction {label}, {steps} steps: {psnr.Average():F2} dB");
        }
        report.Add(new StudyTable("Reconstruction from the bipartite latent (64 px)",
            ["conditioning", "DDIM steps each way", "mean PSNR", "worst PSNR", "scenes >= 30 dB"], rows,
            "Target: >= 30 dB. Decoding is deterministic DDIM (eta 0, guidance 1) from the inverted x_T."));
        }

        // 2. Variations: z_i kept, x_T fresh per seed, the render's own layout picture held.
        if (Runs("variations")) Variations(scenes, renders, decoder, options, report, grid);

        if (Runs("interpolation")) Interpolations(scenes, renders, options, report);

        // 3. Text diffs: recolour the first object of each scene, the target colour spread over the palette.
        if (Runs("textdiff")) TextDiffs(scenes, renders, options.Edit ?? ContrastEditOptions.Default with { Steps = options.InversionSteps }, report, grid);

        // 4. Inpainting and uncropping on held-out masks.
        if (Runs("inpainting")) {
        rows = [];
        var masks = new (string Name, Tensor Keep)[]
        {
            ("centre 32x32 hole", Box(64, 16, 48, keepInside: false)),
            ("right half", Half(64)),
            ("uncrop: keep the centre 32x32", Box(64, 16, 48, keepInside: true)),
        };
        foreach (var (name, keep) in masks)
        {
            foreach (int resample in new[] { 1, 5 })
            {
                double psnr = 0, baseline = 0;
                int correct = 0;
                for (int i = 0; i < scenes.Count; i++)
                {
                    using var scope = NewDisposeScope();
                    var known = renders[i..(i + 1)];
                    var result = operations.Generate(scenes[i].Prompt, [(ulong)i], decoder,
                        new DecodeOptions { Guide = new InpaintGuide(known, keep.to(device), resample) });
                    psnr += MaskedPsnr(result, known, keep.to(device));
                    baseline += MaskedPsnr(MeanFill(known, keep.to(device)), known, keep.to(device));
                    if (CaptionScore.Of(scenes[i].Caption, SceneParser.Parse(result[0])).FullyCorrect) correct++;
                    if (i == 0 && resample == 5) grid.Add(result[0].clone().DetachFromDisposeScope());
                }
                rows.Add([name, $"{resample}", $"{psnr / scenes.Count:F2} dB", $"{baseline / scenes.Count:F2} dB", StudyReport.Percent(correct, scenes.Count)]);
                log.WriteLine($"study edits: inpainting {name} resample {resample}: {psnr / scenes.Count:F2} dB");
            }
            keep.Dispose();
        }
        report.Add(new StudyTable("Inpainting and uncropping (RePaint with the text-conditioned decoder, prompt = the scene's caption)",
            ["mask", "resample", "PSNR in the generated region", "mean-colour fill PSNR", "scene fully correct (parser)"], rows,
            "The baseline fills the region with the mean colour of the kept pixels."));
        }

        // 5. SDEdit from crude 8x8 colour sketches, and ILVR from the render.
        if (Runs("sdedit")) {
        rows = [];
        foreach (double strength in new[] { 0.4, 0.6, 0.8, 1.0 })
        {
            int correct = 0;
            double faithful = 0;
            for (int i = 0; i < scenes.Count; i++)
            {
                using var scope = NewDisposeScope();
                var sketch = Sketch(renders[i..(i + 1)], 8);
                var result = operations.Generate(scenes[i].Prompt, [(ulong)i], decoder, new DecodeOptions { Guide = new SdEditGuide(sketch, strength) });
                faithful += ImageQuality.Psnr(Sketch(result, 8), sketch);
                if (CaptionScore.Of(scenes[i].Caption, SceneParser.Parse(result[0])).FullyCorrect) correct++;
                if (i == 0 && strength == 0.6) grid.AddRange([sketch[0].clone().DetachFromDisposeScope(), result[0].clone().DetachFromDisposeScope()]);
            }
            rows.Add([$"SDEdit strength {strength:F1}", StudyReport.Percent(correct, scenes.Count), $"{faithful / scenes.Count:F2} dB"]);
        }
        foreach (int factor in new[] { 4, 8, 16 })
        {
            int correct = 0;
            double faithful = 0;
            for (int i = 0; i < scenes.Count; i++)
            {
                using var scope = NewDisposeScope();
                var reference = renders[i..(i + 1)];
                var result = operations.Generate(scenes[i].Prompt, [(ulong)i], decoder, new DecodeOptions { Guide = new IlvrGuide(reference, factor, 0.3) });
                faithful += ImageQuality.Psnr(Sketch(result, 64 / factor), Sketch(reference, 64 / factor));
                if (CaptionScore.Of(scenes[i].Caption, SceneParser.Parse(result[0])).FullyCorrect) correct++;
            }
            rows.Add([$"ILVR N={factor}, cut-off 0.3", StudyReport.Percent(correct, scenes.Count), $"{faithful / scenes.Count:F2} dB"]);
        }
        report.Add(new StudyTable("SDEdit (guide: the render pixelated to 8x8) and ILVR (reference: the render)",
            ["operation", "scene fully correct (parser)", "PSNR to the guide at the guide's resolution"], rows,
            "SDEdit trades faithfulness to the guide (right column) for realism as strength grows; ILVR keeps the reference's 64/N px content."));
        }

        Directory.CreateDirectory(outputFolder);
        using (var picture = Png.Grid(grid.Select(g => F.interpolate(g.unsqueeze(0), new long[] { 128, 128 }, mode: InterpolationMode.Nearest)[0]).ToList(), 8))
            File.WriteAllBytes(Path.Combine(outputFolder, "edits.png"), Png.Encode(picture));
        foreach (var g in grid) g.Dispose();
        report.Image("edits.png", "In the order the parts run: render and reconstruction pairs; a variation per scene; render, text diff at the default amount and its mask "
            + "for four scenes; inpainting (centre, right half, uncrop); the SDEdit sketch and its result.");
        return report;
    }

    /// Variations of each render with its caption, with the caption the cascade's image captioner reads from it (what the
    /// cluster does for an uncaptioned variation), and with z_i alone, at each layout share (the share of the trajectory
    /// held to the render's own 16 px layout picture; the decoder's default when none are given). Kept: objects the parser
    /// finds with the source's colour, shape and cell; the variations' spread among themselves and their distance to the source.
    void Variations(IReadOnlyList<BenchPrompt> scenes, Tensor renders, SamplingOptions decoder, Options options, StudyReport report, List<Tensor> grid)
    {
        var rows = new List<IReadOnlyList<string>>();
        var shares = options.LayoutShares ?? [operations.Cascade.Decoder.LayoutShare(decoder)];
        foreach (var share in shares)
            foreach (var conditioning in new[] { "caption + z_i", "caption read from the image + z_i", "z_i alone" })
            {
                int objects = 0, agreeing = 0;
                double spread = 0, distance = 0;
                for (int i = 0; i < scenes.Count; i++)
                {
                    var seeds = Enumerable.Range(0, options.Variations).Select(s => (ulong)(1000 * i + s)).ToList();
                    var caption = conditioning switch
                    {
                        "caption + z_i" => scenes[i].Prompt,
                        "z_i alone" => null,
                        _ => ReadCaption(renders, i),
                    };
                    using var text = caption is null ? null : operations.Cascade.Text.Encode(Enumerable.Repeat(caption, seeds.Count).ToList());
                    using var variations = operations.Variations(renders[i..(i + 1)], text, seeds, decoder with { Layout = share });
                    foreach (var v in variations.unbind(0))
                    {
                        var (n, a) = SceneAgreement.Of(scenes[i].Scene, SceneParser.Parse(v));
                        objects += n;
                        agreeing += a;
                    }
                    spread += PairwiseDistance(variations);
                    using (var away = (variations - renders[i..(i + 1)]).abs().mean()) distance += away.item<float>();
                    if (conditioning == "caption + z_i" && i < 4 && share == shares[^1]) grid.Add(variations[0].clone());
                }
                rows.Add([conditioning, $"{share:F2}", StudyReport.Percent(agreeing, objects), $"{spread / scenes.Count:F3}", $"{distance / scenes.Count:F3}"]);
                var figure = conditioning switch { "caption + z_i" => "captioned", "z_i alone" => "uncaptioned", _ => "read_caption" };
                report.Figure($"variation_agreement_{figure}_{share:F2}", (double)agreeing / objects);
                log.WriteLine($"study edits: variations {conditioning}, layout share {share:F2}: {agreeing}/{objects} objects kept");
            }
        report.Add(new StudyTable($"Variations ({options.Variations} per scene, decoder {decoder.Steps?.ToString() ?? "default"} steps, guidance {decoder.Guidance?.ToString() ?? "default"})",
            ["conditioning", "layout share held to the source", "objects the parser finds kept (colour, shape, cell)",
                "mean absolute difference between variations", "mean absolute difference to the source"], rows,
            "Target: >= 80% of objects kept, and variations that differ. Pixels in [-1, 1]; the layout share is the part of the trajectory, "
            + "from pure noise, held to the source's own 16 px layout picture (0: z_i and the caption alone)."));
    }

    /// Variations of the cascade's own 64 px pictures (each prompt drawn with its id as the seed), as the cluster makes
    /// an uncaptioned one (the caption read from the picture + z_i) and from z_i alone, at the decoder's default layout
    /// share. The source is not a render here, so kept counts the objects the reader finds in the source that a
    /// variation shows with the same colour, shape and cell.
    public StudyReport GeneratedVariations(IReadOnlyList<BenchPrompt> prompts, Options options, string command)
    {
        using var _ = no_grad();
        var decoder = options.Decoder ?? SamplingOptions.Default;
        var captioner = operations.Cascade.Text.ImageCaptioner ?? throw new InvalidOperationException("the model folder has no image captioner");
        var scenes = prompts.Take(options.Scenes).ToList();
        var sources = scenes.Select(p => operations.Cascade.Generate(new GenerationSpec { Prompt = p.Prompt, Seed = (ulong)p.Id }).Image).ToList();
        var read = sources.Select(captioner.Read).ToList();
        var rows = new List<IReadOnlyList<string>>();
        foreach (var conditioning in new[] { "caption read from the picture + z_i", "z_i alone" })
        {
            int objects = 0, agreeing = 0;
            for (int i = 0; i < scenes.Count; i++)
            {
                if (read[i] is not { } scene) continue;
                var seeds = Enumerable.Range(0, options.Variations).Select(s => (ulong)(1000 * i + s)).ToList();
                using var text = conditioning == "z_i alone" ? null : operations.Cascade.Text.Encode(Enumerable.Repeat(Captioner.Canonical(scene), seeds.Count).ToList());
                using var variations = operations.Variations(sources[i], text, seeds, decoder);
                foreach (var v in variations.unbind(0))
                {
                    var (n, a) = SceneAgreement.Of(scene, SceneParser.Parse(v));
                    objects += n;
                    agreeing += a;
                }
            }
            rows.Add([conditioning, StudyReport.Percent(agreeing, objects)]);
            log.WriteLine($"study generated-variations: {conditioning}: {agreeing}/{objects} objects kept");
        }
        foreach (var source in sources) source.Dispose();
        var report = new StudyReport("Variations of generated pictures", command);
        report.Add(new StudyTable($"Variations of the cascade's own 64 px pictures of {scenes.Count} dev prompts ({options.Variations} per picture, the decoder's default sampling; "
            + $"the reader found objects in {read.Count(r => r is not null)})",
            ["conditioning", "objects the reader finds in the source kept (colour, shape, cell)"], rows,
            "Target (issue 35): >= 80% of objects kept. The reader (the scene parser) both captions the source and judges the variations."));
        return report;
    }

    string? ReadCaption(Tensor renders, int i)
    {
        using var render = renders[i];
        return operations.Cascade.Text.ImageCaptioner?.Caption(render);
    }

    /// Interpolation between consecutive scenes (z_i and x_T slerped, 5 frames): the end frames against their renders
    /// (they decode the two bipartite latents), and how evenly the strip moves: the largest frame-to-frame change as a
    /// share of the whole change from the first frame to the last (0.25 for even steps between 5 frames).
    void Interpolations(IReadOnlyList<BenchPrompt> scenes, Tensor renders, Options options, StudyReport report)
    {
        const int frames = 5;
        var ends = new List<double>();
        var largestStep = new List<double>();
        for (int i = 0; i + 1 < scenes.Count; i += 2)
        {
            using var scope = NewDisposeScope();
            using var a = operations.Encode(renders[i..(i + 1)], null, options.InversionSteps);
            using var b = operations.Encode(renders[(i + 1)..(i + 2)], null, options.InversionSteps);
            var strip = operations.Interpolate(a, b, frames, interpolateNoise: true);
            ends.Add(ImageQuality.Psnr(strip[0], renders[i]));
            ends.Add(ImageQuality.Psnr(strip[frames - 1], renders[i + 1]));
            double whole = 0, largest = 0;
            for (int f = 1; f < frames; f++)
            {
                double step = (strip[f] - strip[f - 1]).abs().sum().item<float>();
                whole += step;
                largest = Math.Max(largest, step);
            }
            largestStep.Add(largest / whole);
            log.WriteLine($"study edits: interpolation {i / 2 + 1}: ends {ends[^2]:F2} / {ends[^1]:F2} dB, largest step {largest / whole:F2}");
        }
        report.Figure("interpolation_end_psnr", ends.Average());
        report.Add(new StudyTable($"Interpolation between {largestStep.Count} pairs of scenes ({frames} frames, z_i and x_T slerped, {options.InversionSteps} DDIM steps, no caption)",
            ["measure", "result"],
            [
                ["end frames against their renders (mean PSNR)", $"{ends.Average():F2} dB (worst {ends.Min():F2} dB)"],
                ["largest frame-to-frame change, share of the whole path (mean; 0.25 is even)", $"{largestStep.Average():F2} (worst {largestStep.Max():F2})"],
            ],
            "The end frames decode the two images' bipartite latents, so they reconstruct them; the frames between follow the slerp of both latents."));
    }

    /// Each scene's first object recoloured, written two ways: full captions (every attribute and place, as the networks
    /// were trained) and short ones ("a red circle and a blue star") composed as the cluster composes a request's prompt
    /// and source caption (the request's seed for both, what they leave unsaid read from the source image). Changed: the parser finds the new colour on the object's shape
    /// in its cell; kept: the background and every other object (colour, shape, cell).
    void TextDiffs(IReadOnlyList<BenchPrompt> scenes, Tensor renders, ContrastEditOptions edit, StudyReport report, List<Tensor> grid)
    {
        var rows = new List<IReadOnlyList<string>>();
        var amounts = new[] { 0.0, 0.25, 0.5, 0.75 };
        foreach (var style in new[] { "full captions", "short captions, composed" })
        {
            var changed = new int[amounts.Length];
            var kept = new int[amounts.Length];
            var masked = new double[amounts.Length];
            for (int i = 0; i < scenes.Count; i++)
            {
                var source = scenes[i].Scene;
                var target = SceneAgreement.Recoloured(source, 0, scenes[i].Id);
                var (oldCaption, newCaption) = style == "full captions"
                    ? (scenes[i].Prompt, Recaptioned(scenes[i], target))
                    : (Composed(Short(source), (ulong)scenes[i].Id, renders, i), Composed(Short(target), (ulong)scenes[i].Id, renders, i));
                using var oldText = operations.Cascade.Text.Encode([oldCaption]);
                using var newText = operations.Cascade.Text.Encode([newCaption]);
                for (int k = 0; k < amounts.Length; k++)
                {
                    using var result = operations.TextDiff(renders[i..(i + 1)], oldText, newText, amounts[k], edit, (ulong)scenes[i].Id);
                    var parsed = SceneParser.Parse(result.Images[0]);
                    if (SceneAgreement.Has(parsed, target.Objects[0])) changed[k]++;
                    else if (amounts[k] == TextDiffOperation.DefaultAmount)
                        log.WriteLine($"study edits: text diff ({style}) scene {i + 1} wanted {target.Objects[0].Colour} {target.Objects[0].Shape} {target.Objects[0].Position}; parsed "
                            + string.Join("; ", parsed.Objects.Select(o => $"{o.Colour} {o.Shape} {o.Position} fit {o.Fit:F2}")));
                    if (parsed.Background == target.Background && target.Objects.Skip(1).All(o => SceneAgreement.Has(parsed, o))) kept[k]++;
                    masked[k] += result.Mask.mean().item<float>();
                    if (i < 4 && amounts[k] == TextDiffOperation.DefaultAmount && style == "full captions")
                        grid.AddRange([renders[i].clone(), result.Images[0].clone(), (result.Mask[0].expand(3, -1, -1) * 2 - 1).clone()]);
                }
                log.WriteLine($"study edits: text diff ({style}) scene {i + 1}/{scenes.Count}: \"{oldCaption}\" -> \"{newCaption}\"");
            }
            for (int k = 0; k < amounts.Length; k++)
                rows.Add([style, $"{amounts[k]:F2}", StudyReport.Percent(changed[k], scenes.Count), StudyReport.Percent(kept[k], scenes.Count), $"{100 * masked[k] / scenes.Count:F1}%"]);
            report.Figure($"text_diff_{(style == "full captions" ? "full" : "short")}", amounts.Select((a, k) => new
            {
                amount = a, changed = (double)changed[k] / scenes.Count, kept = (double)kept[k] / scenes.Count,
            }).ToList());
            log.WriteLine($"study edits: text diffs ({style}): changed {string.Join(", ", changed)}, kept {string.Join(", ", kept)} of {scenes.Count}");
        }
        report.Add(new StudyTable($"Text diffs: the first object recoloured (\"red circle\" -> \"blue circle\"); edit strength {edit.Strength}, guidance {edit.Guidance} "
            + $"against the source caption, {edit.Steps} steps, mask from {edit.MaskDraws} draws at t = {edit.MaskLevel} T",
            ["captions", "amount (slerp of z_i toward z_t(new) - z_t(old))", "new colour seen on that shape in its cell", "background and other objects kept", "image share edited (mask)"], rows,
            $"Targets at the default amount {TextDiffOperation.DefaultAmount}: the change seen in >= 70%, everything else kept in >= 90%."));
    }

    /// The source's caption with the recoloured object's colour word replaced, as a user writes a text diff's new prompt;
    /// a fresh caption of the target when that word is not in the caption exactly once.
    static string Recaptioned(BenchPrompt source, Scene target)
    {
        var (from, to) = (source.Scene.Objects[0].Colour, target.Objects[0].Colour);
        var word = new System.Text.RegularExpressions.Regex($@"\b{from}\b");
        return word.Matches(source.Prompt).Count == 1 ? word.Replace(source.Prompt, to) : Captioner.Describe(target, new Random(source.Id)).Text;
    }

    /// "a red circle and a blue star": colour and shape of each object, nothing else.
    static string Short(Scene scene) =>
        string.Join(" and ", scene.Objects.Select(o => $"a {o.Colour} {o.Shape.ToString().ToLowerInvariant()}"));

    /// Composed as the cluster composes a text diff's captions: what the prompt leaves unsaid read from the source image.
    string Composed(string prompt, ulong seed, Tensor renders, int i)
    {
        using var render = renders[i];
        return operations.Cascade.Text.Compose(prompt, seed, reference: operations.Cascade.Text.ImageCaptioner?.Read(render)).Caption;
    }

    static double PairwiseDistance(Tensor images)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0];
        double total = 0;
        int pairs = 0;
        for (long a = 0; a < n; a++)
            for (long b = a + 1; b < n; b++, pairs++)
                total += (images[a] - images[b]).abs().mean().item<float>();
        return pairs == 0 ? 0 : total / pairs;
    }

    static Tensor Box(int size, int from, int to, bool keepInside)
    {
        var keep = keepInside ? zeros(1, 1, size, size) : ones(1, 1, size, size);
        keep[.., .., from..to, from..to] = keepInside ? 1 : 0;
        return keep;
    }

    static Tensor Half(int size)
    {
        var keep = ones(1, 1, size, size);
        keep[.., .., .., (size / 2)..] = 0;
        return keep;
    }

    static double MaskedPsnr(Tensor image, Tensor truth, Tensor keep)
    {
        using var scope = NewDisposeScope();
        var hole = (1 - keep).expand_as(truth);
        double mse = (((image - truth) / 2).pow(2) * hole).sum().item<float>() / Math.Max(1, hole.sum().item<float>());
        return 10 * Math.Log10(1 / Math.Max(mse, 1e-12));
    }

    static Tensor MeanFill(Tensor known, Tensor keep)
    {
        using var scope = NewDisposeScope();
        var mean = (known * keep).sum(new long[] { 2, 3 }, keepdim: true) / keep.sum();
        return (known * keep + mean * (1 - keep)).MoveToOuterDisposeScope();
    }

    /// The image pixelated to size x size and back: a crude colour sketch.
    static Tensor Sketch(Tensor image, int size)
    {
        using var scope = NewDisposeScope();
        var small = F.adaptive_avg_pool2d(image, new long[] { size, size });
        return F.interpolate(small, new long[] { image.shape[^2], image.shape[^1] }, mode: InterpolationMode.Nearest).MoveToOuterDisposeScope();
    }
}
