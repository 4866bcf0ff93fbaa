using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// Standard normal noise shaped like a tensor. A seeded generator draws on the CPU (TorchSharp's generators
/// are CPU generators) and the noise then moves to the tensor's device, so a seed gives the same numbers on
/// every device.
public static class GaussianNoise
{
    public static Tensor Like(Tensor x, Generator? generator)
    {
        if (generator is null) return randn(x.shape, x.dtype, x.device);
        if (x.device.type == DeviceType.CPU) return randn(x.shape, x.dtype, generator: generator);
        using var onCpu = randn(x.shape, x.dtype, generator: generator);
        return onCpu.to(x.device);
    }
}
