using static TorchSharp.torch;

namespace DiffusionCluster.Shapes;

public sealed record ParsedObject(string Colour, ShapeKind Shape, SizeClass Size, Position Position, double CentreX, double CentreY, int Area, double Fit,
    Texture Texture = Texture.Plain);

/// Background: the named colour nearest to the measured one; BackgroundRgb: the median of the border pixels in [0, 1].
public sealed record ParsedScene(string Background, IReadOnlyList<ParsedObject> Objects, (double R, double G, double B) BackgroundRgb = default)
{
    /// How far (RGB distance in [0, 1] units) the measured background is from a named colour.
    public double BackgroundDistance(string colour) => SceneParser.Distance(BackgroundRgb, Palette.Colour(colour).Linear);
}

/// Reads a picture back into a scene, deterministically: the background is measured from the border pixels, the
/// other pixels are labelled with the nearest object colour (a textured object's pixels lie between its colour and
/// its shade), same-colour pixels are grouped into connected regions, and each region's shape and size are the
/// template (rendered at the region's centroid) with the best intersection-over-union; its texture is how much of
/// its inside shows the shade. Works at any resolution.
public static class SceneParser
{
    /// A textured object's inside is about 0.5 shade (stripes) or 0.3 (dots); a plain one 0.
    const double DotsFromShade = 0.12, StripesFromShade = 0.4;

    /// A pixel further than this (RGB distance in [0, 1] units) from every colour family stays unlabelled
    /// (anti-aliased edges, generation noise).
    const double MaxColourDistance = 0.2;
    /// Regions smaller than this fraction of the image are noise, not objects (the smallest object covers ~1%).
    const double MinAreaFraction = 0.0035;
    /// A region whose best template IoU is below this is not an object.
    const double MinTemplateFit = 0.5;

    public static ParsedScene Parse(Tensor image, IEnumerable<string>? objectColours = null)
    {
        using var scope = NewDisposeScope();
        var chw = image.dim() == 4 ? image[0] : image;
        int size = (int)chw.shape[2];
        if (chw.shape[1] != size) throw new ArgumentException($"the scene parser reads square images; got {chw.shape[1]}x{chw.shape[2]}");
        var pixels = ((chw.detach().cpu().to(float32).clamp(-1, 1) + 1) / 2).contiguous().data<float>().ToArray();
        return Parse(pixels, size, objectColours);
    }

    /// pixels: planar RGB in [0, 1] of a size x size image. objectColours: the colours objects may have (the eight
    /// object colours unless given; add white or black where a prompt asks for them).
    public static ParsedScene Parse(float[] pixels, int size, IEnumerable<string>? objectColours = null)
    {
        int plane = size * size;
        var bg = MeasuredBackground(pixels, size);
        string background = Palette.All.MinBy(c => Distance(bg, c.Linear))!.Name;
        // A colour the background itself is close to cannot be told from it.
        var candidates = (objectColours ?? Palette.Objects.Select(c => c.Name)).Distinct().Select(Palette.Colour)
            .Where(c => Distance(c.Linear, bg) > MaxColourDistance).ToArray();
        var labels = new int[plane];
        for (int i = 0; i < plane; i++)
        {
            var p = (R: (double)pixels[i], G: (double)pixels[plane + i], B: (double)pixels[2 * plane + i]);
            double bestDistance = Distance(p, bg);
            int best = -1;
            for (int c = 0; c < candidates.Length; c++)
            {
                double d = FamilyDistance(p, candidates[c], bg);
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
            var parsed = Classify(region, labels, pixels, size, candidates[labels[start]], labels[start], bg);
            // Thin fringes where an edge blends into the background can read as another colour; real objects fit a template.
            if (parsed.Fit >= MinTemplateFit) objects.Add(parsed);
        }
        // Reading order, so results are stable.
        return new ParsedScene(background, objects.OrderBy(o => (int)o.Position).ThenByDescending(o => o.Area).ToList(), bg);
    }

    /// The median of each channel over the border pixels: objects stand inside their cells, so the border is background.
    static (double R, double G, double B) MeasuredBackground(float[] pixels, int size)
    {
        int plane = size * size;
        var border = Enumerable.Range(0, size).SelectMany(k => new[] { k, (size - 1) * size + k, k * size, k * size + size - 1 }).ToArray();
        double Median(int channel)
        {
            var values = border.Select(i => (double)pixels[channel * plane + i]).Order().ToArray();
            return values[values.Length / 2];
        }
        return (Median(0), Median(1), Median(2));
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

    static ParsedObject Classify(List<int> region, int[] labels, float[] pixels, int size, NamedColour colour, int label, (double R, double G, double B) bg)
    {
        // Soft masks: how much of the object's colour each pixel holds (edges are partial), against soft
        // templates drawn with the renderer's own coverage ramp, so a perfect render fits with IoU ~ 1.
        double weight = 0, cx = 0, cy = 0, shade = 0;
        int inside = 0;
        int plane = size * size;
        foreach (int i in region)
        {
            double a = Alpha(pixels, size, i, colour, bg);
            weight += a;
            cx += a * (i % size + 0.5);
            cy += a * (i / size + 0.5);
            if (a < 0.95) continue;
            var p = ((double)pixels[i], (double)pixels[plane + i], (double)pixels[2 * plane + i]);
            shade += SegmentPosition(p, colour.Linear, colour.Shade);
            inside++;
        }
        cx /= weight;
        cy /= weight;
        double shadeShare = inside > 0 ? shade / inside : 0;
        var texture = shadeShare < DotsFromShade ? Texture.Plain : shadeShare < StripesFromShade ? Texture.Dots : Texture.Stripes;
        double bestFit = -1;
        (ShapeKind Shape, SizeClass Size) best = default;
        foreach (var shape in Enum.GetValues<ShapeKind>())
        foreach (var sizeClass in Enum.GetValues<SizeClass>())
        {
            double fit = SoftIntersectionOverUnion(labels, pixels, label, colour, bg, shape, Geometry.Radius(sizeClass) * size, cx, cy, size);
            if (fit > bestFit) (bestFit, best) = (fit, (shape, sizeClass));
        }
        int column = Math.Clamp((int)(cx / size * 3), 0, 2), row = Math.Clamp((int)(cy / size * 3), 0, 2);
        return new ParsedObject(colour.Name, best.Shape, best.Size, Geometry.At(row, column), cx / size, cy / size, region.Count, bestFit, texture);
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

    /// Distance to a colour's family: the colour, its shade and the mixes between them, and an edge's mixes of either
    /// with the background from 30% object on (on a coloured background, half red and half purple is close to pink's
    /// shade, so edges must be read as mixes with the background before they are read as another colour).
    static double FamilyDistance((double R, double G, double B) p, NamedColour colour, (double R, double G, double B) bg)
    {
        static (double R, double G, double B) Lerp((double R, double G, double B) a, (double R, double G, double B) b, double t) =>
            (a.R + (b.R - a.R) * t, a.G + (b.G - a.G) * t, a.B + (b.B - a.B) * t);
        return Math.Min(DistanceToSegment(p, colour.Linear, colour.Shade), Math.Min(
            DistanceToSegment(p, Lerp(bg, colour.Linear, 0.3), colour.Linear),
            DistanceToSegment(p, Lerp(bg, colour.Shade, 0.3), colour.Shade)));
    }

    internal static double Distance((double R, double G, double B) a, (double R, double G, double B) b) =>
        Math.Sqrt((a.R - b.R) * (a.R - b.R) + (a.G - b.G) * (a.G - b.G) + (a.B - b.B) * (a.B - b.B));

    static double DistanceToSegment((double R, double G, double B) p, (double R, double G, double B) a, (double R, double G, double B) b) =>
        Distance(p, NearestOnSegment(p, a, b));

    static (double R, double G, double B) NearestOnSegment((double R, double G, double B) p, (double R, double G, double B) a, (double R, double G, double B) b)
    {
        double t = SegmentPosition(p, a, b);
        return (a.R + (b.R - a.R) * t, a.G + (b.G - a.G) * t, a.B + (b.B - a.B) * t);
    }

    /// Where on the segment from a (0) to b (1) the point nearest to p lies.
    static double SegmentPosition((double R, double G, double B) p, (double R, double G, double B) a, (double R, double G, double B) b)
    {
        double ex = b.R - a.R, ey = b.G - a.G, ez = b.B - a.B;
        return Math.Clamp(((p.R - a.R) * ex + (p.G - a.G) * ey + (p.B - a.B) * ez) / (ex * ex + ey * ey + ez * ez), 0, 1);
    }
}
