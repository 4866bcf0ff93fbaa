using DiffusionCluster.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion.Tests;

public class ParameterizationTests
{
    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.Sample)]
    [InlineData(PredictionType.Velocity)]
    public void Target_and_split_invert_each_other(PredictionType type)
    {
        var g = new Generator(11);
        using var x0 = randn(new long[] { 4, 3, 5, 5 }, generator: g);
        using var eps = randn(new long[] { 4, 3, 5, 5 }, generator: g);
        using var alphaBar = (rand(new long[] { 4, 1, 1, 1 }, generator: g) * 0.98 + 0.01);
        using var xt = NoiseSchedule.AddNoise(x0, eps, alphaBar);

        using var target = Parameterization.Target(type, x0, eps, alphaBar);
        var (x0Back, epsBack) = Parameterization.ToX0AndEps(type, target, xt, alphaBar);

        Assert.True(Oracles.MaxAbsDiff(x0Back, x0) < 1e-3);
        Assert.True(Oracles.MaxAbsDiff(epsBack, eps) < 1e-3);
        x0Back.Dispose();
        epsBack.Dispose();
    }

    [Fact]
    public void V_matches_its_closed_form()
    {
        using var x0 = tensor(new[] { 0.5f });
        using var eps = tensor(new[] { -1.0f });
        using var alphaBar = tensor(0.64f);

        using var v = Parameterization.Target(PredictionType.Velocity, x0, eps, alphaBar);

        // v = sqrt(0.64) * (-1) - sqrt(0.36) * 0.5 = -0.8 - 0.3
        Assert.Equal(-1.1f, v.item<float>(), 5);
    }

    [Fact]
    public void Eps_prediction_refuses_zero_terminal_snr()
    {
        using var x = zeros(1, 3, 2, 2);
        using var level = Parameterization.Level(0);

        var error = Assert.Throws<InvalidOperationException>(() => Parameterization.ToX0AndEps(PredictionType.Epsilon, x, x, level));

        Assert.Contains("abar = 0", error.Message);
    }
}
