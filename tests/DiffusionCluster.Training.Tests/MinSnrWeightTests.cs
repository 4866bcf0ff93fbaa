using DiffusionCluster.Diffusion;
using DiffusionCluster.Training.Trainers;
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
        using var weight = TrainingContext.MinSnrWeight(tensor(new[] { (float)alphaBar }), gamma: 5, PredictionType.Velocity);
        Assert.Equal(expected, weight.item<float>(), 4);
    }

    [Fact]
    public void Loss_weights_each_sample_by_its_own_noise_level()
    {
        // Two samples with squared errors 1 and 4 at alpha-bar 0 (weight 1) and 0.9 (weight 0.5): (1 + 2) / 2.
        using var prediction = zeros(2, 1, 2, 2);
        using var target = cat(new[] { ones(1, 1, 2, 2), full(new long[] { 1, 1, 2, 2 }, 2f) });
        using var alphaBar = tensor(new[] { 0f, 0.9f }).reshape(2, 1, 1, 1);
        using var loss = TrainingContext.MinSnrLoss(prediction, target, alphaBar, gamma: 5, PredictionType.Velocity);
        Assert.Equal(1.5, loss.item<float>(), 4);
    }

    [Fact]
    public void Pixel_weights_make_each_sample_a_weighted_mean_of_its_errors()
    {
        // One sample at alpha-bar 0 (weight 1): squared error 4 on one pixel of four, weighted 10 against 1 for the others.
        using var prediction = zeros(1, 3, 2, 2);
        using var target = zeros(1, 3, 2, 2);
        target[0, .., 0, 0] = tensor(2f);
        using var weights = ones(1, 1, 2, 2);
        weights[0, 0, 0, 0] = tensor(10f);
        using var alphaBar = zeros(1, 1, 1, 1);
        using var weighted = TrainingContext.MinSnrLoss(prediction, target, alphaBar, gamma: 5, PredictionType.Velocity, weights);
        Assert.Equal(4.0 * 10 / 13, weighted.item<float>(), 4);
        using var uniform = TrainingContext.MinSnrLoss(prediction, target, alphaBar, gamma: 5, PredictionType.Velocity, ones(1, 1, 2, 2));
        using var unweighted = TrainingContext.MinSnrLoss(prediction, target, alphaBar, gamma: 5, PredictionType.Velocity);
        Assert.Equal(unweighted.item<float>(), uniform.item<float>(), 6);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public void The_same_x0_error_costs_the_same_in_every_parameterization(double alphaBar)
    {
        // An x0 estimate off by delta implies v and eps estimates for the same x_t; the weighted losses must agree,
        // so switching a stage to x0-prediction changes what its network outputs, not what training optimises.
        manual_seed(3);
        using var x0 = randn(2, 3, 4, 4);
        using var eps = randn(2, 3, 4, 4);
        using var delta = 0.1f * randn(2, 3, 4, 4);
        using var a = full(new long[] { 2, 1, 1, 1 }, (float)alphaBar);
        using var xt = NoiseSchedule.AddNoise(x0, eps, a);
        using var x0Hat = x0 + delta;
        using var vHat = (a.sqrt() * xt - x0Hat) / (1 - a).sqrt();
        using var epsHat = Parameterization.EpsFromX0(xt, x0Hat, a);

        using var sampleLoss = TrainingContext.MinSnrLoss(x0Hat, x0, a, 5, PredictionType.Sample);
        using var velocityLoss = TrainingContext.MinSnrLoss(vHat, Parameterization.Target(PredictionType.Velocity, x0, eps, a), a, 5, PredictionType.Velocity);
        Assert.Equal(sampleLoss.item<float>(), velocityLoss.item<float>(), 3);
        if (alphaBar > 0)
        {
            using var epsilonLoss = TrainingContext.MinSnrLoss(epsHat, eps, a, 5, PredictionType.Epsilon);
            Assert.Equal(sampleLoss.item<float>(), epsilonLoss.item<float>(), 3);
        }
    }
}
