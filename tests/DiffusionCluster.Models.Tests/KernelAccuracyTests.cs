using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

/// The kernels libtorch uses here must compute what the maths says: a float32 U-Net forward must match the
/// same network in float64, with whichever kernels TorchRuntime kept (oneDNN where its start-up check passed).
public class KernelAccuracyTests
{
    [Fact]
    public void A_float32_unet_forward_matches_float64()
    {
        var unet = Tiny.Seeded(30, () => new UNet(Tiny.Decoder));
        var text = Tiny.Seeded(30, () => new TextTransformer(Tiny.Text));
        using (no_grad()) foreach (var (_, p) in unet.named_parameters()) p.add_(randn_like(p) * 0.05);
        unet.eval();
        using var _ = no_grad();
        using var encoded = Tiny.Encode(text);
        using var x = randn(2, 3, 16, 16);
        using var t = tensor(new long[] { 10, 900 });
        using var image = randn(2, 12);

        using var single = unet.forward(x, t, new UNetConditioning(encoded, image));
        unet.to(float64);
        using var tokens = encoded.Tokens.to(float64);
        using var pooled = encoded.Pooled.to(float64);
        using var reference = unet.forward(x.to(float64), t, new UNetConditioning(new TextEncoding(tokens, encoded.Mask, pooled), image.to(float64)));

        Assert.True(Tiny.MaxAbsDiff(single, reference.to(float32)) < 1e-4);
    }
}
