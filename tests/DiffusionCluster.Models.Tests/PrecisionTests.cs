using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

/// Half-precision inference: the networks run in the chosen dtype while every stage's inputs and outputs
/// stay float32. Checked with bf16 on the CPU on the tiny cascade (the only half type this CPU runs); the
/// user-facing options refuse half precision off a GPU.
public class PrecisionTests
{
    [Fact]
    public void A_bf16_cascade_gives_float32_images_close_to_fp32()
    {
        var request = new GenerationSpec
        {
            Prompt = "a red circle", Size = 256, Seed = 3,
            Prior = new SamplingOptions(3, 2, "none"), Decoder64 = new SamplingOptions(3, 2, "dynamic:0.95:1.5"), Sr256 = new SamplingOptions(2, 1, "static", AugmentationLevel: 100),
        };

        var (full, _, _) = new CascadePipeline(TinyCascadeFolder.Path, CPU).Generate(request);
        var (half, _, _) = new CascadePipeline(TinyCascadeFolder.Path, CPU, ScalarType.BFloat16).Generate(request);

        using (full)
        using (half)
        using (var difference = (full - half).abs().mean())
        {
            Assert.Equal(ScalarType.Float32, half.dtype);
            Assert.Equal(new long[] { 1, 3, 256, 256 }, half.shape);
            Assert.True(difference.item<float>() < 0.05, $"bf16 differs from fp32 by {difference.item<float>()} on average");
        }
    }

    [Theory]
    [InlineData("fp16")]
    [InlineData("bf16")]
    public void Half_precision_is_refused_on_the_cpu_with_the_reason(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => PrecisionOption.Parse(name, CPU));

        Assert.Contains($"precision {name} needs a CUDA device", error.Message);
        Assert.Equal(ScalarType.Float32, PrecisionOption.Parse("fp32", CPU));
        Assert.Throws<ArgumentException>(() => PrecisionOption.Parse("fp8"));
    }
}
