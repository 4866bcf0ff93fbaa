using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Models.Weights;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Lab.Studies;

/// How a super-resolution stage's window tiling trades work for quality, at the stage's default sampling: for each
/// tiling, PSNR against the exact render when the input is the exact lower-resolution render; the error on the seams
/// (pixels within 2 px of a window's edge inside the image) over the error elsewhere, where 1.0 means no seam; the
/// pixels the windows cover as a multiple of the image's; and the stage's time per image at batch 1.
public sealed class WindowStudy(CascadePipeline cascade, TextWriter log)
{
    const int SeamHalfWidth = 2;
    const int CropSide = 96;

    public StudyReport Run(IReadOnlyList<BenchPrompt> prompts, string commandLine, string outputFolder)
    {
        var report = new StudyReport("Super-resolution window tiling: seams against work", commandLine);
        Directory.CreateDirectory(outputFolder);
        foreach (var (stage, lowSize) in new[] { (CascadeFolder.Sr256, 64), (CascadeFolder.Sr1024, 256) })
        {
            var crops = new List<Tensor>();
            report.Add(Stage(stage, lowSize, prompts, crops));
            var file = $"sr-windows-{stage}.png";
            using (var picture = Png.Grid(crops, crops.Count))
                File.WriteAllBytes(Path.Combine(outputFolder, file), Png.Encode(picture));
            foreach (var crop in crops) crop.Dispose();
            report.Image(file, $"{stage}, the first scene: a {CropSide} px crop around the first corner where four default windows meet, enlarged 3x; "
                + "the exact render, then each tiling in the table's order.");
        }
        return report;
    }

    StudyTable Stage(string stage, int lowSize, IReadOnlyList<BenchPrompt> prompts, List<Tensor> crops)
    {
        using var _ = no_grad();
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
        // Every tiling sees the same inputs: each scene's caption, its exact render at the input size and at the output size.
        using var inputScope = NewDisposeScope();
        var inputs = prompts.Select(p => (Text: cascade.Text.Encode([p.Prompt]),
            Low: Renderer.RenderTensor(p.Scene, lowSize).unsqueeze(0).to(device),
            Truth: Renderer.RenderTensor(p.Scene, size).unsqueeze(0).to(device))).ToList();
        var rows = new List<IReadOnlyList<string>>();
        foreach (var tiling in tilings)
        {
            var sampler = new ImageSampler(cascade.ModelFolder, stage, device, cascade.Dtype, tiling);
            using var seams = SeamMask(tiling, size).to(device);
            bool hasSeams = seams.any().item<bool>();
            double psnr = 0, seamError = 0, otherError = 0;
            var seconds = new List<double>();
            for (int i = 0; i < prompts.Count; i++)
            {
                using var scope = NewDisposeScope();
                var (text, low, truth) = inputs[i];
                var seed = (ulong)prompts[i].Id;
                if (i == 0) sampler.Sample(text, null, low, [seed], SamplingOptions.Default); // warm-up, untimed
                var clock = Stopwatch.StartNew();
                var image = sampler.Sample(text, null, low, [seed], SamplingOptions.Default);
                seconds.Add(clock.Elapsed.TotalSeconds);
                psnr += ImageQuality.Psnr(image, truth);
                var error = (image - truth).abs().mean([1], keepdim: true);
                if (hasSeams)
                {
                    seamError += error.masked_select(seams).mean().item<float>();
                    otherError += error.masked_select(seams.logical_not()).mean().item<float>();
                }
                if (i == 0)
                {
                    if (tiling == standard) crops.Add(Enlarged(truth[0, .., cornerRows, cornerRows]));
                    crops.Add(Enlarged(image[0, .., cornerRows, cornerRows]));
                }
            }
            var starts = tiling.Starts(size);
            double coverage = (double)starts.Length * starts.Length * Math.Min(tiling.Window, size) * Math.Min(tiling.Window, size) / ((double)size * size);
            string seamRatio = seamError > 0 ? $"{seamError / otherError:F2}" : "-";
            rows.Add([stage, tiling.Window >= size ? "whole image" : $"{tiling.Window} px, overlap {tiling.Overlap}", $"{starts.Length * starts.Length}",
                $"{coverage:F2}x", $"{psnr / prompts.Count:F2} dB", seamRatio, $"{seconds.Order().ElementAt(seconds.Count / 2):F3} s"]);
            log.WriteLine($"study sr-windows: {string.Join(" | ", rows[^1])}");
        }
        return new StudyTable($"{stage}: from the exact {lowSize} px render, {prompts.Count} scenes, default sampling",
            ["stage", "tiling", "windows", "pixels run", "PSNR to the exact render", "seam error / elsewhere", "time per image (median)"], rows,
            $"Seams: pixels within {SeamHalfWidth} px of a window edge inside the image; 1.00 means their error is the image's. "
            + "The whole image at once has no seams; it runs the network on more attention tokens than the training crops had.");
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
