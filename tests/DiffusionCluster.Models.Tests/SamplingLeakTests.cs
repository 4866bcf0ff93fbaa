using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

public class SamplingLeakTests
{
    [Fact]
    public void A_fifty_step_guided_sampling_loop_leaves_no_live_tensors_behind()
    {
        var text = new TextTransformer(Tiny.Text);
        var unet = new UNet(Tiny.Decoder);
        text.eval();
        unet.eval();
        var schedule = NoiseSchedule.Cosine(1000).WithZeroTerminalSnr();
        var scheduler = new DdpmScheduler(schedule, Respacing.Evenly(50, 1000));
        using var _ = no_grad();
        using var encoded = Tiny.Encode(text, 1);
        using var image = randn(1, 12);
        using var doubledText = new TextEncoding(cat(new[] { encoded.Tokens, encoded.Tokens }), cat(new[] { encoded.Mask, encoded.Mask }), cat(new[] { encoded.Pooled, encoded.Pooled }));
        using var doubledImage = cat(new[] { image, image });
        using var drop = tensor(new[] { false, true });
        var denoiser = ClassifierFreeGuidance.Guide((x, t) =>
        {
            using var timesteps = full(new long[] { x.shape[0] }, t, int64);
            return unet.forward(x, timesteps, new UNetConditioning(doubledText, doubledImage, DropConditioning: drop));
        }, scale: 3, predictionChannels: 3);
        using var noise = randn(1, 3, 16, 16);
        var options = new SamplerOptions { Prediction = PredictionType.Velocity, Thresholding = Thresholding.Dynamic(0.95, 1.5), Generator = new Generator(12) };

        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var sample = Sampler.Sample(denoiser, noise, scheduler, options))
            Assert.Equal(new long[] { 1, 3, 16, 16 }, sample.shape);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(before, after);
    }
}
