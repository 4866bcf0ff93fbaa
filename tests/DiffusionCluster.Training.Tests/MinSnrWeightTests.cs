using DiffusionCluster.Training.Stages;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

public class MinSnrWeightTests
{
    [Theory]
    [InlineData(0.0, 1.0)]    // pure noise (zero terminal SNR): full weight, not zero
    [InlineData(0.5, 1.0)]    // SNR 1: SNR + 1 = 2 <= gamma
    [InlineData(0.8, 1.0)]    // SNR + 1 = 5 = gamma
    [InlineData(0.9, 0.5)]    // SNR + 1 = 10: gamma / 10
    [InlineData(0.99, 0.05)]  // SNR + 1 = 100: gamma / 100
    public void Weight_is_min_of_snr_plus_one_and_gamma_over_snr_plus_one(double alphaBar, double expected)
    {
        using var weight = StageContext.MinSnrWeight(tensor(new[] { (float)alphaBar }), gamma: 5);
        Assert.Equal(expected, weight.item<float>(), 4);
    }

    [Fact]
    public void Loss_weights_each_sample_by_its_own_noise_level()
    {
        // Two samples with squared errors 1 and 4 at alpha-bar 0 (weight 1) and 0.9 (weight 0.5): (1 + 2) / 2.
        using var prediction = zeros(2, 1, 2, 2);
        using var target = cat(new[] { ones(1, 1, 2, 2), full(new long[] { 1, 1, 2, 2 }, 2f) });
        using var alphaBar = tensor(new[] { 0f, 0.9f }).reshape(2, 1, 1, 1);
        using var loss = StageContext.MinSnrLoss(prediction, target, alphaBar, gamma: 5);
        Assert.Equal(1.5, loss.item<float>(), 4);
    }
}
