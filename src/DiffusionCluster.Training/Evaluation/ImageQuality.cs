using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Training.Evaluation;

/// Full-reference image quality for super-resolution, on images in [-1, 1] mapped to [0, 1].
public static class ImageQuality
{
    public static double Psnr(Tensor image, Tensor reference)
    {
        using var scope = NewDisposeScope();
        double mse = ((image - reference) / 2).pow(2).mean().item<float>();
        return 10 * Math.Log10(1 / Math.Max(mse, 1e-12));
    }

    /// SSIM (Wang et al.) with an 11-tap Gaussian window (sigma 1.5), averaged over channels and pixels.
    public static double Ssim(Tensor image, Tensor reference)
    {
        using var scope = NewDisposeScope();
        var x = ((image + 1) / 2).reshape(-1, 1, image.shape[^2], image.shape[^1]);
        var y = ((reference + 1) / 2).reshape(-1, 1, reference.shape[^2], reference.shape[^1]);
        var g = exp(-(arange(11, float32) - 5).pow(2) / (2 * 1.5 * 1.5));
        g = g / g.sum();
        var window = (g.unsqueeze(1) * g.unsqueeze(0)).view(1, 1, 11, 11);
        Tensor Blur(Tensor t) => F.conv2d(t, window);
        var muX = Blur(x);
        var muY = Blur(y);
        var sigmaX = Blur(x * x) - muX * muX;
        var sigmaY = Blur(y * y) - muY * muY;
        var sigmaXy = Blur(x * y) - muX * muY;
        const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
        var map = (2 * muX * muY + c1) * (2 * sigmaXy + c2) / ((muX * muX + muY * muY + c1) * (sigmaX + sigmaY + c2));
        return map.mean().item<float>();
    }
}
