using static TorchSharp.torch;

namespace DiffusionCluster.Shapes;

public sealed record ParsedObject(string Colour, ShapeKind Shape, SizeClass Size, Position Position, double CentreX, double CentreY, int Area, double Fit);

public sealed record ParsedScene(string Background, IReadOnlyList<ParsedObject> Objects);

/// Reads a picture back into a scene, deterministically: pixels are labelled with the nearest palette colour
/// (a textured object's pixels lie between its colour and its shade), same-colour pixels are grouped into
/// connected regions, and each region's shape and size are the template (rendered at the region's centroid)
/// with the best intersection-over-union. Works at any resolution.
public static class SceneParser
{
    /// A pixel further than this (RGB distance in [0, 1] units) from every colour family stays unlabelled
    /// (anti-aliased edges, generation noise).
    const double MaxColourDistance = 0.2;
    /// Regions smaller than this fraction of the image are noise, not objects (the smallest object covers ~1%).
    const double MinAreaFraction = 0.0035;
    /// A region whose best template IoU is below this is not an object.
    const double MinTemplateFit = 0.5;

    public static ParsedScene Parse(Tensor image)
    {
        using var scope = NewDisposeScope();
        var chw = image.dim() == 4 ? image[0] : image;
        int size = (int)chw.shape[2];
        if (chw.shape[1] != size) throw new ArgumentException($"the scene parser reads square images; got {chw.shape[1]}x{chw.shape[2]}");
        var pixels = ((chw.detach().cpu().to(float32).clamp(-1, 1) + 1) / 2).contiguous().data<float>().ToArray();
        return Parse(pixels, size);
    }

    /// pixels: planar RGB in [0, 1] of a size x size image.
    public static ParsedScene Parse(float[] pixels, int size)
    {
        int plane = size * size;
        string background = Background(pixels, size);
        var bg = Palette.Background(background).Linear;
        var labels = new int[plane];
        for (int i = 0; i < plane; i++)
        {
            var p = (R: (double)pixels[i], G: (double)pixels[plane + i], B: (double)pixels[2 * plane + i]);
            double bestDistance = Distance(p, bg);
            int best = -1;
            for (int c = 0; c < Palette.Objects.Length; c++)
            {
                double d = DistanceToSegment(p, Palette.Objects[c].Linear, Palette.Objects[c].Shade);
                if (d < bestDistance) (bestDistance, best) = (d, c);
            }
            labels[i] = best >= 0 && bestDistance < MaxColourDistance ? best : -1;
        }

        var objects = new List<ParsedObject>();
        var seen = new bool[plane];
        int minArea = Math.Max(4, (int)(MinAreaFraction * plane));
        for (int start = 0; start < plane; start++)
        {
            if (labels[start] < 0 || seen[start]) continue;
            var region = Flood(labels, seen, size, start);
            if (region.Count < minArea) continue;
            var parsed = Classify(region, labels, pixels, size, labels[start], bg);
            // Thin fringes where an edge blends into the background can read as another colour; real objects fit a template.
            if (parsed.Fit >= MinTemplateFit) objects.Add(parsed);
        }
        // Reading order, so results are stable.
        return new ParsedScene(background, objects.OrderBy(o => (int)o.Position).ThenByDescending(o => o.Area).ToList());
    }

    static string Background(float[] pixels, int size)
    {
        int plane = size * size;
        var votes = new Dictionary<string, int>();
        for (int k = 0; k < size; k++)
            foreach (int i in new[] { k, (size - 1) * size + k, k * size, k * size + size - 1 })
            {
                var p = ((double)pixels[i], (double)pixels[plane + i], (double)pixels[2 * plane + i]);
                var nearest = Palette.Backgrounds.MinBy(b => Distance(p, b.Linear))!.Name;
                votes[nearest] = votes.GetValueOrDefault(nearest) + 1;
            }
        return votes.MaxBy(kv => kv.Value).Key;
    }

    static List<int> Flood(int[] labels, bool[] seen, int size, int start)
    {
        var region = new List<int>();
        var stack = new Stack<int>();
        stack.Push(start);
        seen[start] = true;
        while (stack.Count > 0)
        {
            int i = stack.Pop();
            region.Add(i);
            int x = i % size, y = i / size;
            for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
            {
                int nx = x + dx, ny = y + dy;
                if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
                int j = ny * size + nx;
                if (!seen[j] && labels[j] == labels[start])
                {
                    seen[j] = true;
                    stack.Push(j);
                }
            }
        }
        return region;
    }

    static ParsedObject Classify(List<int> region, int[] labels, float[] pixels, int size, int label, (double R, double G, double B) bg)
    {
        // Soft masks: how much of the object's colour each pixel holds (edges are partial), against soft
        // templates drawn with the renderer's own coverage ramp, so a perfect render fits with IoU ~ 1.
        var colour = Palette.Objects[label];
        double weight = 0, cx = 0, cy = 0;
        foreach (int i in region)
        {
            double a = Alpha(pixels, size, i, colour, bg);
            weight += a;
            cx += a * (i % size + 0.5);
            cy += a * (i / size + 0.5);
        }
        cx /= weight;
        cy /= weight;
        double bestFit = -1;
        (ShapeKind Shape, SizeClass Size) best = default;
        foreach (var shape in Enum.GetValues<ShapeKind>())
        foreach (var sizeClass in Enum.GetValues<SizeClass>())
        {
            double fit = SoftIntersectionOverUnion(labels, pixels, label, colour, bg, shape, Geometry.Radius(sizeClass) * size, cx, cy, size);
            if (fit > bestFit) (bestFit, best) = (fit, (shape, sizeClass));
        }
        int column = Math.Clamp((int)(cx / size * 3), 0, 2), row = Math.Clamp((int)(cy / size * 3), 0, 2);
        return new ParsedObject(colour.Name, best.Shape, best.Size, Geometry.At(row, column), cx / size, cy / size, region.Count, bestFit);
    }

    static double SoftIntersectionOverUnion(int[] labels, float[] pixels, int label, NamedColour colour, (double R, double G, double B) bg,
        ShapeKind shape, double radius, double cx, double cy, int size)
    {
        // The window spans the largest template, so every candidate is judged on the same pixels.
        double reach = Geometry.Radius(SizeClass.Large) * size + 2;
        int x0 = Math.Max(0, (int)(cx - reach)), x1 = Math.Min(size, (int)(cx + reach) + 1);
        int y0 = Math.Max(0, (int)(cy - reach)), y1 = Math.Min(size, (int)(cy + reach) + 1);
        double intersection = 0, union = 0;
        for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
        {
            int i = y * size + x;
            double observed = labels[i] == label || labels[i] < 0 ? Alpha(pixels, size, i, colour, bg) : 0;
            double template = Math.Clamp(0.5 - ShapeOutlines.Distance(shape, (x + 0.5 - cx) / radius, (y + 0.5 - cy) / radius) * radius, 0, 1);
            intersection += Math.Min(observed, template);
            union += Math.Max(observed, template);
        }
        return union > 0 ? intersection / union : 0;
    }

    /// The fraction of a pixel that is the object: its position on the line from the background to the
    /// nearest point of the object's colour family (the colour, its shade, and the mixes between them).
    static double Alpha(float[] pixels, int size, int i, NamedColour colour, (double R, double G, double B) bg)
    {
        int plane = size * size;
        var p = ((double)pixels[i], (double)pixels[plane + i], (double)pixels[2 * plane + i]);
        var c = NearestOnSegment(p, colour.Linear, colour.Shade);
        double ex = c.R - bg.R, ey = c.G - bg.G, ez = c.B - bg.B;
        double t = ((p.Item1 - bg.R) * ex + (p.Item2 - bg.G) * ey + (p.Item3 - bg.B) * ez) / (ex * ex + ey * ey + ez * ez);
        return Math.Clamp(t, 0, 1);
    }

    static double Distance((double R, double G, double B) a, (double R, double G, double B) b) =>
        Math.Sqrt((a.R - b.R) * (a.R - b.R) + (a.G - b.G) * (a.G - b.G) + (a.B - b.B) * (a.B - b.B));

    static double DistanceToSegment((double R, double G, double B) p, (double R, double G, double B) a, (double R, double G, double B) b) =>
        Distance(p, NearestOnSegment(p, a, b));

    static (double R, double G, double B) NearestOnSegment((double R, double G, double B) p, (double R, double G, double B) a, (double R, double G, double B) b)
    {
        double ex = b.R - a.R, ey = b.G - a.G, ez = b.B - a.B;
        double t = Math.Clamp(((p.R - a.R) * ex + (p.G - a.G) * ey + (p.B - a.B) * ez) / (ex * ex + ey * ey + ez * ez), 0, 1);
        return (a.R + ex * t, a.G + ey * t, a.B + ez * t);
    }
}
