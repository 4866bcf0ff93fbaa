using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

/// SRDiff-style super-resolution: the stage diffuses the residual over bicubic upsampling of its input.
public sealed class ResidualSuperResolutionTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("dc-residual-sr-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static readonly UNetConfig Residual = Tiny.SuperResolution with
    {
        PredictsResidual = true,
        Diffusion = new DiffusionConfig { Prediction = PredictionType.Sample },
    };

    ImageSampler Stage(UNetConfig config, Action<UNet>? change = null)
    {
        var unet = Tiny.Seeded(3, () => new UNet(config));
        change?.Invoke(unet);
        CascadeFolder.Save(_folder, "sr", config, unet);
        return new ImageSampler(_folder, "sr", CPU);
    }

    /// An x0-predicting network, residual scale 4, whose output convolution has a bias of 0.8: it predicts a residual
    /// of 0.8 everywhere.
    ImageSampler ConstantResidualStage() => Stage(Residual with { ResidualScale = 4 },
        unet => { using (no_grad()) unet.named_parameters().Last(p => p.name.EndsWith("bias")).parameter.fill_(0.8f); });

    static (TextEncoding Text, Tensor Low) Inputs()
    {
        var encoder = Tiny.Seeded(5, () => new TextTransformer(Tiny.Text));
        manual_seed(11);
        return (Tiny.Encode(encoder), rand(2, 3, 16, 16) * 2 - 1);
    }

    [Fact]
    public void A_network_that_predicts_no_residual_returns_exactly_bicubic_upsampling()
    {
        // Fresh U-Nets end in a zeroed convolution, so an x0-predicting one predicts a zero residual everywhere.
        var stage = Stage(Residual);
        var (text, low) = Inputs();
        using var _ = text;
        using var output = stage.Sample(text, null, low, [1, 2], new SamplingOptions(4, 1.0, "none"));
        using var bicubic = Upsampling.Bicubic(low, 32);
        Assert.Equal(new long[] { 2, 3, 32, 32 }, output.shape);
        Assert.True(Tiny.MaxAbsDiff(output, bicubic) < 1e-5, $"max difference {Tiny.MaxAbsDiff(output, bicubic)}");
    }

    [Fact]
    public void A_scaled_residual_is_divided_by_its_scale_after_sampling()
    {
        // The stage adds 0.8 / scale to bicubic. Thresholding is off so nothing else moves the values.
        var stage = ConstantResidualStage();
        var (text, low) = Inputs();
        using var _ = text;
        using var output = stage.Sample(text, null, low, [1, 2], new SamplingOptions(4, 1.0, "none"));
        using var expected = (Upsampling.Bicubic(low, 32) + 0.2).clamp(-1, 1);
        Assert.True(Tiny.MaxAbsDiff(output, expected) < 1e-4, $"max difference {Tiny.MaxAbsDiff(output, expected)}");
    }

    [Fact]
    public void Each_step_s_estimate_is_reported_as_images_bicubic_plus_the_scaled_residual()
    {
        // The network predicts a residual of 0.8 at every step, so every step's estimate of the image is
        // bicubic + 0.8 / 4, as the sample itself ends.
        var stage = ConstantResidualStage();
        var (text, low) = Inputs();
        using var _ = text;
        using var expected = (Upsampling.Bicubic(low, 32) + 0.2).clamp(-1, 1);
        var errors = new List<double>();

        using var output = stage.Sample(text, null, low, [1, 2], new SamplingOptions(4, 1.0, "none"),
            (_, _, estimate) => errors.Add(Tiny.MaxAbsDiff(estimate!(), expected)));

        Assert.Equal(4, errors.Count);
        Assert.All(errors, e => Assert.True(e < 1e-4, $"max difference {e}"));
    }

    [Fact]
    public void A_residual_scale_is_refused_outside_its_range_or_on_a_stage_that_diffuses_the_image()
    {
        var tooSmall = Assert.Throws<ArgumentException>(() => (Residual with { ResidualScale = 0 }).Validate());
        Assert.Contains("residual_scale = 0", tooSmall.Message);
        Assert.Contains("[0.01, 1000]", tooSmall.Message);
        var notResidual = Assert.Throws<ArgumentException>(() => (Residual with { PredictsResidual = false, ResidualScale = 8 }).Validate());
        Assert.Contains("unless predicts_residual", notResidual.Message);
    }

    [Fact]
    public void The_same_zero_network_without_residual_returns_flat_grey_not_the_input()
    {
        // The control: the same weights diffusing the image itself know nothing of the input.
        var stage = Stage(Residual with { PredictsResidual = false });
        var (text, low) = Inputs();
        using var _ = text;
        using var output = stage.Sample(text, null, low, [1, 2], new SamplingOptions(4, 1.0, "none"));
        Assert.True(output.abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void A_trained_looking_residual_stage_is_deterministic_under_a_seed_and_differs_from_bicubic()
    {
        var stage = Stage(Residual, unet => { using (no_grad()) foreach (var (_, p) in unet.named_parameters()) p.add_(randn_like(p) * 0.05); });
        var (text, low) = Inputs();
        using var _ = text;
        using var a = stage.Sample(text, null, low, [1, 2], new SamplingOptions(4, 2.0, "none"));
        using var b = stage.Sample(text, null, low, [1, 2], new SamplingOptions(4, 2.0, "none"));
        using var bicubic = Upsampling.Bicubic(low, 32);
        Assert.Equal(0, Tiny.MaxAbsDiff(a, b));
        Assert.True(Tiny.MaxAbsDiff(a, bicubic) > 1e-3);
    }

    [Fact]
    public void Image_edits_are_refused_on_a_residual_stage()
    {
        var stage = Stage(Residual);
        var (text, low) = Inputs();
        using var _ = text;
        var edit = new DecodeOptions { Guide = new SdEditGuide(zeros(2, 3, 32, 32), 0.5) };
        var error = Assert.Throws<ArgumentException>(() => stage.Sample(text, null, low, [1, 2], new SamplingOptions(4, 1.0, "none"), decode: edit));
        Assert.Contains("residual", error.Message);
    }

    [Fact]
    public void A_residual_config_without_a_matching_low_resolution_input_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => (Tiny.Decoder with { PredictsResidual = true }).Validate());
        Assert.Contains("predicts_residual", error.Message);
        Assert.Contains("low_res_channels (0)", error.Message);
    }

    [Fact]
    public void The_one_step_estimate_of_an_untrained_residual_stage_is_bicubic_at_pure_noise_and_the_image_near_t_0()
    {
        // Closed forms: a fresh x0-network predicts a zero residual at every t, so its estimate is bicubic; a fresh
        // v-network predicts v = 0, which at abar = 0 (t = 999, zero terminal SNR) is x0 = 0 (bicubic again) and at
        // t = 0 is x0 = sqrt(abar) x_t, within sqrt(1 - abar) of the noised residual, so the estimate is about the image.
        var (text, low) = Inputs();
        using var _ = text;
        manual_seed(12);
        using var images = (rand(2, 3, 32, 32) * 2 - 1).clamp(-1, 1);
        using var bicubic = Upsampling.Bicubic(low, 32);
        var sample = Stage(Residual);
        foreach (var t in new[] { 999, 500, 0 })
        {
            using var estimate = sample.EstimateClean(text, null, low, images, t, [1, 2]);
            Assert.True(Tiny.MaxAbsDiff(estimate, bicubic.clamp(-1, 1)) < 1e-5, $"x0-network at t = {t}: {Tiny.MaxAbsDiff(estimate, bicubic)}");
        }
        var velocity = Stage(Residual with { Diffusion = new DiffusionConfig { Prediction = PredictionType.Velocity } });
        using (var atNoise = velocity.EstimateClean(text, null, low, images, 999, [1, 2]))
            Assert.True(Tiny.MaxAbsDiff(atNoise, bicubic.clamp(-1, 1)) < 1e-5, $"v-network at t = 999: {Tiny.MaxAbsDiff(atNoise, bicubic)}");
        using (var nearClean = velocity.EstimateClean(text, null, low, images, 0, [1, 2]))
            Assert.True(Tiny.MaxAbsDiff(nearClean, images) < 0.05, $"v-network at t = 0: {Tiny.MaxAbsDiff(nearClean, images)}");
    }

    [Fact]
    public void A_residual_stage_without_its_input_names_what_is_missing()
    {
        var stage = Stage(Residual);
        var (text, _) = Inputs();
        using var __ = text;
        using var images = zeros(1, 3, 32, 32);
        var error = Assert.Throws<ArgumentException>(() => stage.EstimateClean(text, null, null, images, 500, [1]));
        Assert.Equal("sr needs the low-resolution image it upsamples", error.Message);
        Assert.Throws<ArgumentException>(() => stage.Sample(text, null, null, [1], new SamplingOptions(2, 1.0, "none")));
    }
}
