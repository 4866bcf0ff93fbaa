using DiffusionCluster.Shapes;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Evaluation;

/// How far a generated picture is from looking like a render of its scene, measured against the exact render at the
/// same resolution. Spread and BorderBand are in 8-bit levels (a render: 0); EdgeWidth is the generated outlines'
/// 10-90% transition width over the render's (a render: 1); OutlineIou compares the object pixels; PeriodicPeak is
/// the strongest isolated peak of the error's spectrum over its ring's median, in dB (a render: no error, 0).
public sealed record RenderLikeness(double Spread, double BorderBand, double EdgeWidth, double OutlineIou, double PeriodicPeak)
{
    /// A pixel this far (RGB distance in [0, 1] units) from the background colour is an object's (the parser's limit).
    const double ObjectDistance = 0.2;

    /// generated: [3, N, N] in [-1, 1]; scene: what the picture should show (the prompt's scene, or the one parsed
    /// from the picture).
    public static RenderLikeness Measure(Tensor generated, Scene scene)
    {
        int size = (int)generated.shape[^1];
        float[] image;
        using (NewDisposeScope())
            image = ((generated.detach().cpu().to(float32).reshape(3, size, size).clamp(-1, 1) + 1) / 2).contiguous().data<float>().ToArray();
        var render = Renderer.Render(scene, size);
        var objects = Renderer.Labels(scene, size).Select(l => l > 0).ToArray();
        // Background: at least a 32nd of the image from every object, so no outline's blur counts as background.
        int margin = Math.Max(2, size / 32);
        var background = Dilate(objects, size, margin).Select(b => !b).ToArray();
        var bg = Palette.Colour(scene.Background).Linear;
        return new RenderLikeness(MeasureSpread(image, size, background), MeasureBorderBand(image, size, background, margin),
            MeasureEdgeWidth(image, render, scene, size, bg), MeasureOutlineIou(image, objects, size, bg), MeasurePeriodicPeak(image, render, size));
    }

    /// The standard deviation of the background pixels, averaged over the channels.
    static double MeasureSpread(float[] image, int size, bool[] background)
    {
        int plane = size * size;
        double total = 0;
        for (int c = 0; c < 3; c++)
        {
            var values = Enumerable.Range(0, plane).Where(i => background[i]).Select(i => (double)image[c * plane + i]).ToList();
            if (values.Count < 2) return 0;
            double mean = values.Average();
            total += Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
        }
        return 255 * total / 3;
    }

    /// The largest difference, over the channels, between the background's mean in a band along the image's edges
    /// (a 32nd of its side) and its mean inside.
    static double MeasureBorderBand(float[] image, int size, bool[] background, int band)
    {
        int plane = size * size;
        double worst = 0;
        for (int c = 0; c < 3; c++)
        {
            double edge = 0, inside = 0;
            int edgeCount = 0, insideCount = 0;
            for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int i = y * size + x;
                if (!background[i]) continue;
                bool nearEdge = Math.Min(Math.Min(x, y), Math.Min(size - 1 - x, size - 1 - y)) < band;
                if (nearEdge) { edge += image[c * plane + i]; edgeCount++; }
                else { inside += image[c * plane + i]; insideCount++; }
            }
            if (edgeCount > 0 && insideCount > 0) worst = Math.Max(worst, Math.Abs(edge / edgeCount - inside / insideCount));
        }
        return 255 * worst;
    }

    /// Pixels whose coverage (the pixel's colour projected on the line from the background to the object's colour)
    /// lies between 10% and 90%, near each object's outline, in the picture over in the render: how many times wider
    /// the picture's edges are.
    static double MeasureEdgeWidth(float[] image, float[] render, Scene scene, int size, (double R, double G, double B) bg)
    {
        int plane = size * size, reach = Math.Max(2, size / 16);
        long generated = 0, rendered = 0;
        foreach (var o in scene.Objects)
        {
            var inside = Renderer.Labels(scene with { Objects = [o] }, size).Select(l => l > 0).ToArray();
            var near = Dilate(inside, size, reach);
            var deep = Dilate(inside.Select(b => !b).ToArray(), size, reach);
            var colour = Palette.Colour(o.Colour).Linear;
            double dr = colour.R - bg.R, dg = colour.G - bg.G, db = colour.B - bg.B, length = dr * dr + dg * dg + db * db;
            if (length < 1e-6) continue;
            bool Transition(float[] pixels, int i)
            {
                double c = ((pixels[i] - bg.R) * dr + (pixels[plane + i] - bg.G) * dg + (pixels[2 * plane + i] - bg.B) * db) / length;
                return c > 0.1 && c < 0.9;
            }
            for (int i = 0; i < plane; i++)
            {
                if (!near[i] || !deep[i]) continue; // the band on both sides of the outline
                if (Transition(image, i)) generated++;
                if (Transition(render, i)) rendered++;
            }
        }
        return rendered == 0 ? 1 : (double)generated / rendered;
    }

    /// Intersection over union of the picture's object pixels (far from the background colour) and the render's.
    static double MeasureOutlineIou(float[] image, bool[] objects, int size, (double R, double G, double B) bg)
    {
        int plane = size * size, both = 0, either = 0;
        for (int i = 0; i < plane; i++)
        {
            double dr = image[i] - bg.R, dg = image[plane + i] - bg.G, db = image[2 * plane + i] - bg.B;
            bool drawn = Math.Sqrt(dr * dr + dg * dg + db * db) > ObjectDistance;
            if (drawn && objects[i]) both++;
            if (drawn || objects[i]) either++;
        }
        return either == 0 ? 1 : (double)both / either;
    }

    /// The error's (picture minus render, luminance) power spectrum, smoothed over 3x3 bins so noise alone makes no
    /// peaks; each ring's (same spatial frequency, any direction) largest bin over its median, in dB, the largest over
    /// periods from 2 px up to a 16th of the image. A grid or checkerboard concentrates its energy in a few bins.
    static double MeasurePeriodicPeak(float[] image, float[] render, int size)
    {
        int plane = size * size;
        using var scope = NewDisposeScope();
        var error = new float[plane];
        for (int i = 0; i < plane; i++)
            error[i] = (image[i] - render[i] + image[plane + i] - render[plane + i] + image[2 * plane + i] - render[2 * plane + i]) / 3;
        var spectrum = fft.fft2(tensor(error, [size, size]).to(complex64)).abs().pow(2);
        var smoothed = nn.functional.avg_pool2d(nn.functional.pad(spectrum.view(1, 1, size, size), [1, 1, 1, 1], TorchSharp.PaddingModes.Circular), 3, stride: 1)
            .view(size, size).data<float>().ToArray();
        var rings = new Dictionary<int, List<float>>();
        for (int v = 0; v < size; v++)
        for (int u = 0; u < size; u++)
        {
            int fu = Math.Min(u, size - u), fv = Math.Min(v, size - v), ring = (int)Math.Round(Math.Sqrt(fu * fu + fv * fv));
            if (ring < 16 || ring > size / 2) continue; // periods from a 16th of the image down to 2 px
            (rings.TryGetValue(ring, out var list) ? list : rings[ring] = []).Add(smoothed[v * size + u]);
        }
        // A floor: the power per bin of an error of half an 8-bit level, spread evenly (below it nothing shows).
        double floor = plane * Math.Pow(0.5 / 255, 2);
        double peak = 0;
        foreach (var list in rings.Values)
        {
            list.Sort();
            peak = Math.Max(peak, 10 * Math.Log10((list[^1] + floor) / (list[list.Count / 2] + floor)));
        }
        return peak;
    }

    /// Every pixel within `reach` (in the max norm) of a marked one: along the rows, then along the columns.
    static bool[] Dilate(bool[] marked, int size, int reach) =>
        DilateLines(DilateLines(marked, size, reach, (line, k) => line * size + k), size, reach, (line, k) => k * size + line);

    /// Marks every pixel within `reach` of a marked one along each line; index(line, k) is the k-th pixel of a line.
    /// Two sweeps per line: the nearest marked pixel before, then after.
    static bool[] DilateLines(bool[] marked, int size, int reach, Func<int, int, int> index)
    {
        var result = new bool[marked.Length];
        for (int line = 0; line < size; line++)
        {
            int last = -reach - 1;
            for (int k = 0; k < size; k++)
            {
                if (marked[index(line, k)]) last = k;
                if (k - last <= reach) result[index(line, k)] = true;
            }
            last = size + reach + 1;
            for (int k = size - 1; k >= 0; k--)
            {
                if (marked[index(line, k)]) last = k;
                if (last - k <= reach) result[index(line, k)] = true;
            }
        }
        return result;
    }
}
