using System.Diagnostics;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models;

/// The floating-point rate this device reaches on the two operations the networks spend their time in, measured here:
/// a large square matrix product and a 3x3, 128-to-128-channel convolution (the networks' commonest layer shape),
/// each in the given dtype, best of three rounds. What `bench stages` reports achieved rates against.
public sealed record ComputePeak(double MatmulGflops, double ConvGflops)
{
    /// The higher of the two: the rate the device is known to reach.
    public double Gflops => Math.Max(MatmulGflops, ConvGflops);

    public static ComputePeak Measure(Device device, ScalarType dtype)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        const long n = 2048, channels = 128, batch = 4, side = 64;
        var a = randn(n, n, dtype: dtype, device: device);
        var b = randn(n, n, dtype: dtype, device: device);
        double matmul = Rate(2.0 * n * n * n, () => a.matmul(b));
        var input = randn(batch, channels, side, side, dtype: dtype, device: device);
        var weight = randn(channels, channels, 3, 3, dtype: dtype, device: device) * 0.03;
        double conv = Rate(2.0 * channels * channels * 9 * batch * side * side, () => F.conv2d(input, weight, padding: [1, 1]));
        return new ComputePeak(matmul, conv);
    }

    /// GFLOP/s of an operation of `flops`, repeated until a round lasts a quarter second; reading one element of the
    /// last result waits for an asynchronous device.
    static double Rate(double flops, Func<Tensor> operation)
    {
        using (var first = operation()) Wait(first);
        double best = 0;
        for (int round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            int count = 0;
            Tensor? last = null;
            do
            {
                last?.Dispose();
                last = operation();
                count++;
            }
            while (clock.Elapsed.TotalSeconds < 0.25 && count < 10_000);
            Wait(last!);
            last!.Dispose();
            best = Math.Max(best, flops * count / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    static void Wait(Tensor result)
    {
        using var element = result.flatten()[0].to(float32);
        element.item<float>();
    }
}
