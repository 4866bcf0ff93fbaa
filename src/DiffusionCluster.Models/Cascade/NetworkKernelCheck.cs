using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

/// A loaded U-Net checked on this process's CPU kernels (TorchRuntime.CheckNetwork): its loaded weights run in
/// float32 and in float64 on the same random input, batches of 1 and 3, unconditioned (the convolutions are what
/// differ), at twice its smallest input size so the check costs milliseconds. Only while oneDNN is on, on the CPU
/// in float32; the network is back in float32 afterwards (float32 -> float64 -> float32 is exact).
internal static class NetworkKernelCheck
{
    public static void Check(UNet unet, string name, Device device, ScalarType dtype)
    {
        if (device.type != DeviceType.CPU || dtype != ScalarType.Float32 || !TorchRuntime.OneDnn) return;
        try
        {
            TorchRuntime.CheckNetwork(name, precision =>
            {
                unet.to(precision);
                return cat([Forward(unet, precision, batch: 1), Forward(unet, precision, batch: 3)]);
            });
        }
        finally
        {
            unet.to(ScalarType.Float32);
        }
    }

    static Tensor Forward(UNet unet, ScalarType dtype, int batch)
    {
        var config = unet.Config;
        int size = Math.Min(2 * config.SizeMultiple, config.SampleWindow > 0 ? config.SampleWindow : config.SampleSize);
        var generator = new Generator(0x6E6574UL + (ulong)batch);
        var x = randn(new long[] { batch, config.InChannels, size, size }, generator: generator).to(dtype);
        var t = tensor(Enumerable.Range(0, batch).Select(i => (long)((i * 7 + 3) * (config.Diffusion.Timesteps - 1) / 10 % config.Diffusion.Timesteps)).ToArray());
        var conditioning = new UNetConditioning(
            ImageEmbedding: config.ImageEmbedDim > 0 ? randn(new long[] { batch, config.ImageEmbedDim }, generator: generator).to(dtype) : null,
            LowRes: config.LowResChannels > 0 ? randn(new long[] { batch, config.LowResChannels, Math.Max(1, size / 4), Math.Max(1, size / 4) }, generator: generator).to(dtype) : null,
            AugmentationLevel: config.LowResChannels > 0 ? zeros(batch, int64) : null,
            DropConditioning: ones(batch, dtype: @bool));
        return unet.forward(x, t, conditioning);
    }
}
