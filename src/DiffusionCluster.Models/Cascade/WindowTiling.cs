using DiffusionCluster.Models.Configs;

namespace DiffusionCluster.Models.Cascade;

/// How a super-resolution stage covers an image larger than its training crop: square windows of Window px, each
/// overlapping its neighbours by Overlap px and blended across it. Both are multiples of the network's size multiple,
/// so every window starts on the network's grid.
public sealed record WindowTiling(int Window, int Overlap)
{
    /// A stage's tiling: the config's sample_window (none when 0), overlapping by the given pixels, by default a quarter
    /// of the window rounded down to the network's grid.
    public static WindowTiling? For(UNetConfig config, int? window = null, int? overlap = null)
    {
        int size = window ?? config.SampleWindow;
        if (size == 0) return null;
        var tiling = new WindowTiling(size, overlap ?? size / 4 / config.SizeMultiple * config.SizeMultiple);
        if (size % config.SizeMultiple != 0 || tiling.Overlap % config.SizeMultiple != 0 || tiling.Overlap < 0 || tiling.Overlap >= size)
            throw new ArgumentException($"windows of {size} px overlapping by {tiling.Overlap} px: both must be multiples of {config.SizeMultiple} (the network's size multiple) and the overlap below the window");
        return tiling;
    }

    /// Start offsets along one side of `size` px: every (window - overlap) pixels, the last flush with the far edge.
    public int[] Starts(int size)
    {
        if (Window >= size) return [0];
        int stride = Window - Overlap;
        var starts = new List<int>();
        for (int s = 0; s + Window < size; s += stride) starts.Add(s);
        starts.Add(size - Window);
        return starts.ToArray();
    }
}
