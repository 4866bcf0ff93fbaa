using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Models.Weights;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Lab.Studies;

/// How a super-resolution stage's window tiling trades work for quality, at the stage's default sampling. Each stage
/// runs twice per tiling: from the exact lower-resolution render of each scene, and from the cascade's own picture
/// of its prompt at that size (the 64 px base; for sr1024 the base through sr256's default tiling), which is what the
/// stage meets in use. For each: PSNR against the exact render; the error on the seams (pixels within 2 px of a
/// window's edge inside the image) over the error elsewhere; the step between neighbouring pixels across a window's
/// edge over the step across the network's other grid lines, which needs no render (1.00 means no seam either way); the
/// difference from the default tiling's picture; the pixels the windows cover as a multiple of the image's; and the
/// stage's time per image at batch 1.
public sealed class WindowStudy(CascadePipeline cascade, TextWriter log)
{
    const int SeamHalfWidth = 2;
    const int CropSide = 96;

    /// One scene's input to a stage: its caption's encoding, the low-resolution picture, the exact render at the output size.
    sealed record Input(TextEncoding Text, Tensor Low, Tensor Truth, ulong Seed);

    public StudyReport Run(IReadOnlyList<BenchPrompt> prompts, string commandLine, string outputFolder)
    {
        using var _ = no_grad();
        var report = new StudyReport("Super-resolution window tiling: seams against work", commandLine);
        Directory.CreateDirectory(outputFolder);
        using var inputScope = NewDisposeScope();
        var device = cascade.Device;
        var captions = prompts.Select(p => ShapeBenchRunner.Caption(cascade, p)).ToList();
        var texts = captions.Select(c => cascade.Text.Encode([c])).ToList();
        var seeds = prompts.Select(p => (ulong)p.Id).ToList();
        var bases = captions.Select((c, i) => cascade.SampleBases([c], [seeds[i]], SamplingOptions.Default, SamplingOptions.Default)).ToList();
        var generated = new Dictionary<string, List<Tensor>>
        {
            [CascadeFolder.Sr256] = bases,
            [CascadeFolder.Sr1024] = bases.Select((b, i) => cascade.Sr256.Sample(texts[i], null, b, [seeds[i]], SamplingOptions.Default)).ToList(),
        };
        foreach (var (stage, lowSize) in new[] { (CascadeFolder.Sr256, 64), (CascadeFolder.Sr1024, 256) })
        {
            int size = lowSize * 4;
            var truths = prompts.Select(p => Renderer.RenderTensor(p.Scene, size).unsqueeze(0).to(device)).ToList();
            var fromRenders = prompts.Select((p, i) => new Input(texts[i], Renderer.RenderTensor(p.Scene, lowSize).unsqueeze(0).to(device), truths[i], seeds[i])).ToList();
            var fromCascade = prompts.Select((p, i) => new Input(texts[i], generated[stage][i], truths[i], seeds[i])).ToList();
            foreach (var (inputs, source, file) in new[]
            {
                (fromRenders, $"the exact {lowSize} px render", $"sr-windows-{stage}.png"),
                (fromCascade, $"the cascade's own {lowSize} px picture", $"sr-windows-{stage}-generated.png"),
            })
            {
                var crops = new List<Tensor>();
                report.Add(Stage(stage, source, inputs, crops));
                using (var picture = Png.Grid(crops, crops.Count))
                    File.WriteAllBytes(Path.Combine(outputFolder, file), Png.Encode(picture));
                foreach (var crop in crops) crop.Dispose();
                report.Image(file, $"{stage} from {source}, the first scene: a {CropSide} px crop around the first corner where four default windows meet, "
                    + "enlarged 3x; the exact render, then each tiling in the table's order.");
            }
        }
        return report;
    }

    StudyTable Stage(string stage, string source, IReadOnlyList<Input> inputs, List<Tensor> crops)
    {
        var config = Component.ReadConfig<UNetConfig>(CascadeFolder.Path(cascade.ModelFolder, stage));
        int size = config.SampleSize, window = config.SampleWindow, grid = config.SizeMultiple;
        var standard = WindowTiling.For(config) ?? throw new ArgumentException($"{stage} samples the whole image; there is no tiling to study");
        var tilings = new List<WindowTiling> { standard };
        foreach (var candidate in new[]
        {
            WindowTiling.For(config, window, standard.Overlap / 2 / grid * grid),
            WindowTiling.For(config, window, 0),
            WindowTiling.For(config, 2 * window, 2 * window / 4 / grid * grid),
            WindowTiling.For(config, 2 * window, 0),
            new WindowTiling(size, 0),
        })
            if (candidate is not null && candidate.Window <= size && !tilings.Contains(candidate)) tilings.Add(candidate);

        int corner = standard.Starts(size)[1] + standard.Overlap / 2;
        var cornerRows = TensorIndex.Slice(corner - CropSide / 2, corner + CropSide / 2);
        var device = cascade.Device;
        var rows = new List<IReadOnlyList<string>>();
        var standardPictures = new List<Tensor>();
        foreach (var tiling in tilings)
        {
            var sampler = new ImageSampler(cascade.ModelFolder, stage, device, cascade.Dtype, tiling);
            using var seams = SeamMask(tiling, size).to(device);
            bool hasSeams = seams.any().item<bool>();
            double psnr = 0, seamError = 0, otherError = 0, edgeStep = 0, otherStep = 0, fromStandard = 0;
            var seconds = new List<double>();
            for (int i = 0; i < inputs.Count; i++)
            {
                using var scope = NewDisposeScope();
                var input = inputs[i];
                if (i == 0) sampler.Sample(input.Text, null, input.Low, [input.Seed], SamplingOptions.Default); // warm-up, untimed
                var clock = Stopwatch.StartNew();
                var image = sampler.Sample(input.Text, null, input.Low, [input.Seed], SamplingOptions.Default);
                seconds.Add(clock.Elapsed.TotalSeconds);
                psnr += ImageQuality.Psnr(image, input.Truth);
                if (tiling == standard) standardPictures.Add(image.DetachFromDisposeScope());
                else fromStandard += ImageQuality.Psnr(image, standardPictures[i]);
                var error = (image - input.Truth).abs().mean([1], keepdim: true);
                if (hasSeams)
                {
                    seamError += error.masked_select(seams).mean().item<float>();
                    otherError += error.masked_select(seams.logical_not()).mean().item<float>();
                }
                // The whole image has no window edges: its step is read at the default tiling's, a control.
                var (across, other) = Steps(image, hasSeams ? tiling : standard, grid);
                edgeStep += across;
                otherStep += other;
                if (i == 0)
                {
                    if (tiling == standard) crops.Add(Enlarged(input.Truth[0, .., cornerRows, cornerRows]));
                    crops.Add(Enlarged(image[0, .., cornerRows, cornerRows]));
                }
            }
            var starts = tiling.Starts(size);
            double coverage = (double)starts.Length * starts.Length * Math.Min(tiling.Window, size) * Math.Min(tiling.Window, size) / ((double)size * size);
            rows.Add([stage, tiling.Window >= size ? "whole image" : $"{tiling.Window} px, overlap {tiling.Overlap}", $"{starts.Length * starts.Length}",
                $"{coverage:F2}x", $"{psnr / inputs.Count:F2} dB", hasSeams ? $"{seamError / otherError:F2}" : "-", hasSeams ? $"{edgeStep / otherStep:F2}" : $"({edgeStep / otherStep:F2})",
                tiling == standard ? "-" : $"{fromStandard / inputs.Count:F1} dB", $"{seconds.Order().ElementAt(seconds.Count / 2):F3} s"]);
            log.WriteLine($"study sr-windows ({source}): {string.Join(" | ", rows[^1])}");
        }
        foreach (var picture in standardPictures) picture.Dispose();
        return new StudyTable($"{stage}: from {source}, {inputs.Count} scenes, default sampling",
            ["stage", "tiling", "windows", "pixels run", "PSNR to the exact render", "seam error / elsewhere", "step across window edges / elsewhere",
                "PSNR to the default tiling's picture", "time per image (median)"], rows,
            $"Seams: pixels within {SeamHalfWidth} px of a window edge inside the image; 1.00 means their error is the image's. The step: the mean "
            + $"difference between neighbouring pixels that straddle a window edge over that across the network's other {grid} px grid lines, "
            + "where windows could start but these do not (the input's enlarged pixels lie on the same lines); 1.00 means the edges cannot be told "
            + "from the rest of the picture; in brackets, the whole image's step at the default tiling's edges, where it has none. The whole image at once has no seams; it runs the network on more attention tokens "
            + "than the training crops had.");
    }

    /// The mean step between neighbouring pixels of an image [B, C, size, size] (over channels, rows and columns)
    /// across the tiling's window edges inside the image, and across the other lines of the network's grid (every
    /// `grid` px), where windows could start but these do not. Window edges always lie on that grid, and so do the
    /// input's enlarged pixels and their texture; comparing like with like keeps those out of the seam figure.
    public static (double AcrossEdges, double Elsewhere) Steps(Tensor image, WindowTiling tiling, int grid)
    {
        using var scope = NewDisposeScope();
        int size = (int)image.shape[3];
        var edges = new bool[size - 1]; // pair p: pixels p and p + 1
        foreach (int start in tiling.Starts(size))
            foreach (int edge in new[] { start, start + tiling.Window })
                if (edge > 0 && edge < size) edges[edge - 1] = true;
        var others = Enumerable.Range(0, size - 1).Select(p => (p + 1) % grid == 0 && !edges[p]).ToArray();
        var rowSteps = (image.narrow(3, 1, size - 1) - image.narrow(3, 0, size - 1)).abs().mean([1], keepdim: true);
        var columnSteps = (image.narrow(2, 1, size - 1) - image.narrow(2, 0, size - 1)).abs().mean([1], keepdim: true);
        double Across(bool[] pairs)
        {
            var flags = tensor(pairs).to(image.device);
            var alongRows = flags.view(1, 1, 1, size - 1).expand(image.shape[0], 1, size, size - 1);
            var alongColumns = flags.view(1, 1, size - 1, 1).expand(image.shape[0], 1, size - 1, size);
            return cat([rowSteps.masked_select(alongRows), columnSteps.masked_select(alongColumns)]).mean().item<float>();
        }
        return (Across(edges), Across(others));
    }

    /// [1, 1, size, size]: true within SeamHalfWidth px of a window edge inside the image.
    static Tensor SeamMask(WindowTiling tiling, int size)
    {
        var near = new bool[size];
        foreach (int start in tiling.Starts(size))
            foreach (int edge in new[] { start, start + tiling.Window })
                if (edge > 0 && edge < size)
                    for (int p = Math.Max(0, edge - SeamHalfWidth); p < Math.Min(size, edge + SeamHalfWidth); p++) near[p] = true;
        using var line = tensor(near);
        return line.view(1, 1, size, 1).logical_or(line.view(1, 1, 1, size));
    }

    static Tensor Enlarged(Tensor crop) =>
        F.interpolate(crop.unsqueeze(0), new long[] { 3 * CropSide, 3 * CropSide }, mode: InterpolationMode.Nearest)[0].cpu().DetachFromDisposeScope();
}
