using DiffusionCluster.Shapes;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// Where a super-resolution training crop sits. Most of a render is flat colour, where the residual over bicubic is
/// zero, and a uniform crop misses every object edge more than half the time (CropSamplerTests); an SR stage learns
/// from edges and textures. So most crops are centred on a random object's outline (a point at
/// 0.5-1.25 of its radius in a random direction) and the rest stay uniform, which keeps plain background in the mix.
public static class CropSampler
{
    public const double OnObjectShare = 0.75;

    /// The crop's corner on the low-resolution grid: (x, y) in [0, (size - crop) / factor], so the high-resolution
    /// window (x * factor, y * factor, crop) and the low-resolution one (x, y, crop / factor) show the same region.
    public static (int X, int Y) Corner(Scene scene, int size, int crop, int factor, Generator generator)
    {
        int maxCorner = (size - crop) / factor;
        using var draws = rand(new long[] { 5 }, generator: generator);
        var u = draws.data<float>().ToArray();
        if (u[0] >= OnObjectShare || scene.Objects.Count == 0)
            return (Scaled(u[1], maxCorner), Scaled(u[2], maxCorner));
        var o = scene.Objects[Math.Min(scene.Objects.Count - 1, (int)(u[1] * scene.Objects.Count))];
        var (cx, cy) = Geometry.Centre(o.Position);
        double angle = 2 * Math.PI * u[2], reach = Geometry.Radius(o.Size) * (0.5 + 0.75 * u[3]);
        double centreX = (cx + reach * Math.Cos(angle)) * size, centreY = (cy + reach * Math.Sin(angle)) * size;
        // Jitter by up to a quarter crop so the outline does not always cross the crop's middle.
        double jitter = (u[4] - 0.5) * crop / 2;
        return (Snap(centreX + jitter, crop, factor, maxCorner), Snap(centreY - jitter, crop, factor, maxCorner));
    }

    static int Scaled(float u, int max) => Math.Min(max, (int)(u * (max + 1)));

    static int Snap(double centre, int crop, int factor, int max) =>
        Math.Clamp((int)Math.Round((centre - crop / 2.0) / factor), 0, max);
}
