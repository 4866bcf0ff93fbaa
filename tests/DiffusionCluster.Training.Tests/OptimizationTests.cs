using DiffusionCluster.Training.Optimization;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

/// AdamW and the EMA against their update rules written out by hand.
public class OptimizationTests
{
    [Fact]
    public void Two_AdamW_steps_follow_the_bias_corrected_update_and_decoupled_weight_decay()
    {
        var matrix = new Parameter(tensor(new[] { 1f, -2f, 3f, 0.5f }).view(2, 2));
        var bias = new Parameter(tensor(new[] { 1f, -1f }));
        var optimizer = new AdamW([("matrix", matrix), ("bias", bias)], beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1);
        double[] gradients = [0.5, -0.25], w = [1, -2, 3, 0.5], b = [1, -1];
        double m = 0, v = 0;
        const double lr = 0.01;

        for (int step = 1; step <= 2; step++)
        {
            double g = gradients[step - 1];
            matrix.grad = full(2, 2, (float)g);
            bias.grad = full(2, (float)g);
            optimizer.Step(lr);

            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            double update = lr * (m / (1 - Math.Pow(0.9, step))) / (Math.Sqrt(v / (1 - Math.Pow(0.999, step))) + 1e-8);
            w = w.Select(x => x * (1 - lr * 0.1) - update).ToArray(); // weight decay on matrices only
            b = b.Select(x => x - update).ToArray();
        }

        Assert.Equal(w.Select(x => (float)x), matrix.detach().flatten().data<float>().ToArray(), new FloatTolerance(1e-6f));
        Assert.Equal(b.Select(x => (float)x), bias.detach().data<float>().ToArray(), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void The_EMA_moves_its_shadow_by_the_warmed_up_decay()
    {
        var layer = nn.Linear(1, 1, hasBias: false);
        using (no_grad()) layer.weight!.copy_(tensor(new[] { 1f }).view(1, 1));
        var ema = new ExponentialMovingAverage(layer, decay: 0.999);
        double shadow = 1;

        for (int step = 0; step < 3; step++)
        {
            float weight = 2 + step;
            using (no_grad()) layer.weight!.fill_(weight);
            ema.Update(step);
            double decay = Math.Min(0.999, (1.0 + step) / (10.0 + step));
            shadow = decay * shadow + (1 - decay) * weight;
        }

        Assert.Equal(shadow, ema.Shadow["weight"].item<float>(), 5);
    }

    sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float value) => 0;
    }
}
