using DiffusionCluster.Diffusion;

namespace DiffusionCluster.Diffusion.Tests;

public class KernelCheckTests
{
    [Fact]
    public void The_runtime_keeps_onednn_for_inference_exactly_when_its_forward_check_passed()
    {
        var check = Assert.IsType<KernelCheck>(TorchRuntime.OneDnnCheck);
        Assert.False(check.Gradients);
        if (TorchRuntime.OneDnnGradientCheck is null) Assert.Equal(check.Passes, TorchRuntime.OneDnn);
        Assert.Contains(check.Passes ? "start-up check" : "disagreed with float64 at start-up", TorchRuntime.Describe());
    }

    [Fact]
    public void Forward_convolutions_match_float64_with_the_kernels_in_use()
    {
        var check = KernelCheck.Forward(rounds: 10);

        Assert.True(check.Passes && check.Error < 1e-5, check.ToString());
    }

    [Fact]
    public void A_process_that_trains_keeps_onednn_only_if_its_gradients_match_float64()
    {
        TorchRuntime.PrepareForTraining();

        if (TorchRuntime.OneDnnGradientCheck is { } gradients)
        {
            Assert.True(gradients.Gradients);
            Assert.Equal(gradients.Passes, TorchRuntime.OneDnn);
        }
        else Assert.False(TorchRuntime.OneDnn); // oneDNN was already off: nothing to check
        // Whatever kernels remain must give right gradients.
        var check = KernelCheck.Backward(rounds: 10);
        Assert.True(check.Passes, check.ToString());
    }

    [Fact]
    public void A_network_check_compares_its_float32_forward_with_its_float64_one()
    {
        var agreeing = KernelCheck.Of(dtype => TorchSharp.torch.linspace(0, 1, 50, dtype: dtype).sin());
        var disagreeing = KernelCheck.Of(dtype => TorchSharp.torch.linspace(0, 1, 50, dtype: dtype) * (dtype == TorchSharp.torch.float32 ? 1.01 : 1));
        var nan = KernelCheck.Of(dtype => TorchSharp.torch.full(3, dtype == TorchSharp.torch.float32 ? double.NaN : 1, dtype: dtype));

        Assert.True(agreeing.Passes, agreeing.ToString());
        Assert.InRange(disagreeing.Error, 0.009, 0.011);
        Assert.False(disagreeing.Passes);
        Assert.Contains("gave NaN", nan.ToString());
    }

    [Theory]
    [InlineData(double.PositiveInfinity)]
    [InlineData(0.17)]
    [InlineData(2e-4)]
    public void A_nan_or_an_error_beyond_rounding_fails_the_check(double error) =>
        Assert.False(new KernelCheck(error, Gradients: true).Passes);
}
