using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

/// Runs a super-resolution network over overlapping square windows of the size it was trained on (sample_window)
/// and blends the outputs: each window's output is weighted by a ramp that falls towards its edges over the overlap,
/// and the sum is divided by the summed weights, so a network that returns its input returns it unchanged.
/// Every window gets the matching window of the low-resolution image, as the training crops did.
public static class SampleWindows
{
    /// network(x window, conditioning for that window) over x [B, C, H, W]; conditioning.LowRes is the whole
    /// low-resolution image [B, C, H / f, W / f].
    public static Tensor Forward(Func<Tensor, UNetConditioning, Tensor> network, Tensor x, UNetConditioning conditioning, WindowTiling tiling)
    {
        long height = x.shape[2], width = x.shape[3];
        int window = tiling.Window;
        if (window >= height || window >= width) return network(x, conditioning); // square windows need room on both sides
        var lowRes = conditioning.LowRes ?? throw new ArgumentException("windowed sampling needs the low-resolution image");
        int factor = (int)(height / lowRes.shape[2]);
        var ys = tiling.Starts((int)height);
        var xs = tiling.Starts((int)width);
        if (factor * lowRes.shape[2] != height || factor * lowRes.shape[3] != width || window % factor != 0 || ys.Concat(xs).Any(s => s % factor != 0))
            throw new ArgumentException($"windows of {window} px over {height}x{width} do not align with the {lowRes.shape[2]}x{lowRes.shape[3]} input (factor {factor})");

        using var scope = NewDisposeScope();
        var ramp = Ramp(window, tiling.Overlap, x.dtype, x.device);
        var weight = ramp.view(1, 1, window, 1) * ramp.view(1, 1, 1, window);
        var corners = ys.SelectMany(top => xs.Select(left => (Top: top, Left: left))).ToList();
        long batch = x.shape[0];
        int perCall = (int)Math.Max(1, WindowsPerCall / batch);
        Tensor? sum = null;
        var weights = zeros(new long[] { 1, 1, height, width }, dtype: x.dtype, device: x.device);
        foreach (var chunk in corners.Chunk(perCall))
        {
            using var inner = NewDisposeScope();
            // Windows go into the batch dimension, window-major, so the conditioning is the batch's repeated.
            var windows = cat(chunk.Select(c => x[.., .., Rows(c.Top, window), Rows(c.Left, window)]).ToArray());
            var lowWindows = cat(chunk.Select(c => lowRes[.., .., Rows(c.Top / factor, window / factor), Rows(c.Left / factor, window / factor)]).ToArray());
            var output = network(windows, (conditioning with { LowRes = null }).Repeat(chunk.Length) with { LowRes = lowWindows });
            sum ??= zeros(new long[] { batch, output.shape[1], height, width }, dtype: output.dtype, device: output.device).MoveToOuterDisposeScope();
            for (int i = 0; i < chunk.Length; i++)
            {
                var (rows, cols) = (Rows(chunk[i].Top, window), Rows(chunk[i].Left, window));
                sum[.., .., rows, cols] += output[TensorIndex.Slice(i * batch, (i + 1) * batch)] * weight;
                weights[.., .., rows, cols] += weight;
            }
        }
        return (sum! / weights).MoveToOuterDisposeScope();
    }

    /// Windows per network call (times the batch): enough to keep the cores busy, few enough to stay small in memory.
    const int WindowsPerCall = 16;

    static TensorIndex Rows(int start, int length) => TensorIndex.Slice(start, start + length);

    /// 1 in the middle, falling linearly to 1 / (overlap + 1) at either end over overlap pixels; never 0, so the
    /// image's own edges, which only one window covers, keep their weight.
    static Tensor Ramp(int window, int overlap, ScalarType dtype, Device device)
    {
        var i = arange(window, dtype: ScalarType.Float32);
        var fromEdge = minimum(i, window - 1 - i) + 1;
        var ramp = overlap == 0 ? ones(window) : (fromEdge / (overlap + 1)).clamp_max(1);
        return ramp.to(dtype).to(device);
    }
}
