using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Shapes;

/// Draws a scene exactly at any resolution: each pixel's coverage comes from the shape's signed distance
/// (a one-pixel linear ramp, i.e. box-filter anti-aliasing), so 64, 256 and 1024 pixel renders of a scene
/// agree. A crop renders only its window of the full-size image (for training super-resolution on crops).
public static class Renderer
{
    /// Texture period as a fraction of the image width: fine at 64 px, clear at 256 and 1024.
    public const double TexturePeriod = 0.04;

    /// Planar RGB in [0, 1]: three planes of height x width, for the window (left, top, width, height) of a size x size image.
    public static float[] Render(Scene scene, int size, int left = 0, int top = 0, int width = -1, int height = -1)
    {
        if (width < 0) width = size;
        if (height < 0) height = size;
        if (size < 1 || left < 0 || top < 0 || left + width > size || top + height > size)
            throw new ArgumentException($"crop ({left}, {top}, {width}x{height}) does not fit in a {size}x{size} image");
        var pixels = new float[3 * width * height];
        var bg = Palette.Colour(scene.Background).Linear;
        int plane = width * height;
        for (int i = 0; i < plane; i++)
        {
            pixels[i] = (float)bg.R;
            pixels[plane + i] = (float)bg.G;
            pixels[2 * plane + i] = (float)bg.B;
        }
        foreach (var o in scene.Objects) Draw(o, size, left, top, width, height, pixels);
        return pixels;
    }

    /// [3, H, W] float32 in [-1, 1], the range the diffusion models work in.
    public static Tensor RenderTensor(Scene scene, int size, int left = 0, int top = 0, int width = -1, int height = -1)
    {
        var pixels = Render(scene, size, left, top, width, height);
        int w = width < 0 ? size : width, h = height < 0 ? size : height;
        return ModelRange(pixels, new long[] { 3, h, w });
    }

    /// [B, 3, size, size] float32 in [-1, 1]: the scenes render in parallel into one buffer (rendering is pure, so the
    /// batch is the same on any number of cores). A 64 px scene takes about 0.2 ms on one core, which in series would be
    /// a sixth of a batch-128 decoder training step on a GPU (about 0.17 s).
    public static Tensor RenderBatch(IReadOnlyList<Scene> scenes, int size)
    {
        int imageLength = 3 * size * size;
        var pixels = new float[scenes.Count * imageLength];
        Parallel.For(0, scenes.Count, i => Render(scenes[i], size).CopyTo(pixels, i * imageLength));
        return ModelRange(pixels, new long[] { scenes.Count, 3, size, size });
    }

    static Tensor ModelRange(float[] unitPixels, long[] shape)
    {
        using var unit = tensor(unitPixels, shape);
        // The numbers as Scalars held to the end: one TorchSharp makes on the fly can be finalised by the GC while the
        // native op still reads it (libtorch's rare "Expected false to be true" from Scalar::toLong), and every
        // training row is rendered here.
        using Scalar two = 2, one = 1;
        return unit.mul(two).sub_(one);
    }

    /// The exact segmentation of a scene at size x size: per pixel 0 for background, 1 + (int)shape where an
    /// object covers the pixel's centre (later objects over earlier ones, as drawn).
    public static int[] Labels(Scene scene, int size)
    {
        var labels = new int[size * size];
        foreach (var o in scene.Objects)
        {
            var (cx, cy) = Geometry.Centre(o.Position);
            double radius = Geometry.Radius(o.Size) * size, centreX = cx * size, centreY = cy * size;
            for (int y = Math.Max(0, (int)(centreY - radius - 1)); y < Math.Min(size, (int)(centreY + radius + 2)); y++)
            for (int x = Math.Max(0, (int)(centreX - radius - 1)); x < Math.Min(size, (int)(centreX + radius + 2)); x++)
                if (ShapeOutlines.Distance(o.Shape, (x + 0.5 - centreX) / radius, (y + 0.5 - centreY) / radius) <= 0)
                    labels[y * size + x] = 1 + (int)o.Shape;
        }
        return labels;
    }

    /// 1 for every pixel of a size x size image inside an object's bounding box (plus the pixel its edge ramp may
    /// reach), else 0: where the objects' shapes differ from one another, whatever the shape.
    public static float[] ObjectBoxes(Scene scene, int size)
    {
        var mask = new float[size * size];
        foreach (var o in scene.Objects)
        {
            var (x0, x1, y0, y1) = Box(o, size, 0, 0, size, size);
            for (int y = y0; y < y1; y++)
                Array.Fill(mask, 1f, y * size + x0, x1 - x0);
        }
        return mask;
    }

    /// The pixels [x0, x1) x [y0, y1) of a size x size image an object can cover (its bounding box plus a pixel for the
    /// edge ramp), clipped to the window (left, top, width, height).
    static (int X0, int X1, int Y0, int Y1) Box(SceneObject o, int size, int left, int top, int width, int height)
    {
        var (cx, cy) = Geometry.Centre(o.Position);
        double radius = Geometry.Radius(o.Size) * size, centreX = cx * size, centreY = cy * size;
        return (Math.Max(left, (int)Math.Floor(centreX - radius - 1)), Math.Min(left + width, (int)Math.Ceiling(centreX + radius + 1)),
            Math.Max(top, (int)Math.Floor(centreY - radius - 1)), Math.Min(top + height, (int)Math.Ceiling(centreY + radius + 1)));
    }

    static void Draw(SceneObject o, int size, int left, int top, int width, int height, float[] pixels)
    {
        var (cx, cy) = Geometry.Centre(o.Position);
        double radius = Geometry.Radius(o.Size) * size; // in pixels
        double centreX = cx * size, centreY = cy * size;
        var colour = Palette.Colour(o.Colour);
        var (r, g, b) = colour.Linear;
        var (sr, sg, sb) = colour.Shade;
        double period = TexturePeriod * size;
        int plane = width * height;
        var (x0, x1, y0, y1) = Box(o, size, left, top, width, height);
        for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
        {
            double px = x + 0.5, py = y + 0.5;
            double distance = ShapeOutlines.Distance(o.Shape, (px - centreX) / radius, (py - centreY) / radius) * radius;
            double coverage = Math.Clamp(0.5 - distance, 0, 1);
            if (coverage <= 0) continue;
            double shade = Pattern(o.Texture, px, py, period);
            int i = (y - top) * width + (x - left);
            pixels[i] = Blend(pixels[i], r + (sr - r) * shade, coverage);
            pixels[plane + i] = Blend(pixels[plane + i], g + (sg - g) * shade, coverage);
            pixels[2 * plane + i] = Blend(pixels[2 * plane + i], b + (sb - b) * shade, coverage);
        }
    }

    /// How much of the darker shade a point shows (0..1), anti-aliased the same way as the outlines.
    static double Pattern(Texture texture, double px, double py, double period)
    {
        switch (texture)
        {
            case Texture.Stripes:
            {
                double phase = (px + py) / Math.Sqrt(2) / period;
                double edge = (Math.Abs(phase - Math.Floor(phase) - 0.5) - 0.25) * period; // < 0 inside a stripe
                return Math.Clamp(0.5 - edge, 0, 1);
            }
            case Texture.Dots:
            {
                double lx = px - period * (Math.Floor(px / period) + 0.5), ly = py - period * (Math.Floor(py / period) + 0.5);
                return Math.Clamp(0.5 - (Math.Sqrt(lx * lx + ly * ly) - 0.3 * period), 0, 1);
            }
            default:
                return 0;
        }
    }

    static float Blend(float under, double over, double alpha) => (float)(under * (1 - alpha) + over * alpha);
}
