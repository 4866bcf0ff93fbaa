using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// Ho and Salimans: out = uncond + w (cond - uncond). w = 1 is the conditional model, w = 0 the unconditional.
/// Only the prediction channels are guided; learned-variance channels come from the conditional half.
public static class ClassifierFreeGuidance
{
    public static Tensor Combine(Tensor conditional, Tensor unconditional, double scale, long predictionChannels)
    {
        using var scope = NewDisposeScope();
        var c = conditional[.., ..(int)predictionChannels];
        var u = unconditional[.., ..(int)predictionChannels];
        using Scalar weight = scale; // held to the end: TorchRuntime says why
        var guided = u + weight * (c - u);
        if (conditional.shape[1] > predictionChannels)
            guided = cat(new[] { guided, conditional[.., (int)predictionChannels..] }, 1);
        return guided.MoveToOuterDisposeScope();
    }

    /// Wraps a model that takes a doubled batch [x; x] and returns [conditional; unconditional] outputs,
    /// so both halves run as one forward pass.
    public static Denoiser Guide(Func<Tensor, int, Tensor> doubledBatchModel, double scale, long predictionChannels) =>
        (xt, t) =>
        {
            using var scope = NewDisposeScope();
            var both = doubledBatchModel(cat(new[] { xt, xt }, 0), t);
            var halves = both.chunk(2, 0);
            return Combine(halves[0], halves[1], scale, predictionChannels).MoveToOuterDisposeScope();
        };
}
