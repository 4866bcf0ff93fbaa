using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Diffusion;

/// How far float32 convolutions with the kernels libtorch picked are from the same maths in float64, relative to the
/// largest float64 value: the worst over small conv-GroupNorm-SiLU-conv nets shaped like this project's networks'
/// ends (3 or 6 image channels in, 3 out, a strided conv in between) at batch 1 to 5. float64 runs libtorch's native
/// kernels (oneDNN has no float64 convolution), so this compares whatever float32 uses against them. A NaN is an
/// error of infinity. Gradients are those of a fixed projection of the output with respect to input and weights.
public sealed record KernelCheck(double Error, bool Gradients)
{
    /// float32 convolutions agree with float64 to ~1e-6 relative; a kernel off by more than this is wrong, not rounded.
    public const double Tolerance = 1e-4;

    public bool Passes => Error <= Tolerance;

    public override string ToString() => double.IsInfinity(Error)
        ? $"float32 {(Gradients ? "gradients" : "forward")} gave NaN where float64 did not"
        : $"float32 {(Gradients ? "gradients" : "forward")} within {Error:E1} of float64 (tolerance {Tolerance:E0})";

    /// The widths of this project's networks' ends: 3 or 6 image channels (SR: the noisy image and the low-resolution
    /// one), space-to-depth inputs of 14 (decoder64: 3 x 2 x 2 plus 2 coordinate channels) and 24 (sr256: 6 x 2 x 2),
    /// and an odd inner width. On this project's AMD EPYC machines oneDNN's 3x3 convolutions with more than 16 input
    /// channels that are not a multiple of 16 return wrong values or NaN, which the 24 catches.
    static readonly (int In, int Middle, int Out)[] Shapes = [(3, 32, 3), (6, 32, 3), (14, 32, 3), (24, 32, 3), (8, 16, 8)];

    /// Forward only: what inference runs. Milliseconds.
    public static KernelCheck Forward(int rounds = 2) => Run(rounds, gradients: false);

    /// Forward and backward: what training runs. oneDNN 3.7's convolution gradients on this project's AMD EPYC
    /// machines are wrong (NaN or off by up to ~0.5) in about half of the trials whose channel count is not a multiple
    /// of 16, so several rounds are run to catch it.
    public static KernelCheck Backward(int rounds = 6) => Run(rounds, gradients: true);

    /// A whole network's forward: forward(float32) against forward(float64), on the same weights and inputs.
    public static KernelCheck Of(Func<ScalarType, Tensor> forward)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return new KernelCheck(RelativeError(forward(float32).to(float64), forward(float64).to(float64)), Gradients: false);
    }

    static KernelCheck Run(int rounds, bool gradients)
    {
        double error = 0;
        for (int round = 0; round < rounds; round++)
            foreach (var shape in Shapes)
                error = Math.Max(error, Compare(new Generator(0x6B65726EUL + (ulong)round), batch: 1 + round % 5, shape, gradients));
        return new KernelCheck(error, gradients);
    }

    static double Compare(Generator generator, int batch, (int In, int Middle, int Out) shape, bool gradients)
    {
        using var scope = NewDisposeScope();
        using var mode = gradients ? enable_grad() : no_grad();
        var input = randn(new long[] { batch, shape.In, 16, 16 }, float64, generator: generator);
        var first = randn(new long[] { shape.Middle, shape.In, 3, 3 }, float64, generator: generator) * 0.2;
        var down = randn(new long[] { shape.Middle, shape.Middle, 3, 3 }, float64, generator: generator) * 0.1;
        var last = randn(new long[] { shape.Out, shape.Middle, 3, 3 }, float64, generator: generator) * 0.1;
        var projection = randn(new long[] { batch, shape.Out, 8, 8 }, float64, generator: generator);

        Tensor[] Evaluate(ScalarType dtype)
        {
            // Fresh leaves per precision, so no gradient is ever accumulated twice into the same tensor.
            var leaves = new[] { input, first, down, last }.Select(t => t.to(dtype).detach().requires_grad_(gradients)).ToArray();
            var h = F.silu(F.group_norm(F.conv2d(leaves[0], leaves[1], padding: [1, 1]), 4));
            h = F.conv2d(h, leaves[2], strides: [2, 2], padding: [1, 1]);
            var output = F.conv2d(F.silu(h), leaves[3], padding: [1, 1]);
            if (!gradients) return [output.to(float64)];
            (output * projection.to(dtype)).sum().backward();
            return [output.detach().to(float64), .. leaves.Select(l => l.grad!.to(float64))];
        }

        return Evaluate(float32).Zip(Evaluate(float64), RelativeError).Max();
    }

    static double RelativeError(Tensor value, Tensor reference)
    {
        double error = (value - reference).abs().max().item<double>();
        double scale = reference.abs().max().item<double>();
        double relative = error / Math.Max(scale, 1e-12);
        return double.IsNaN(relative) ? double.PositiveInfinity : relative;
    }
}
