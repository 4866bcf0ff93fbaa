using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// Deterministic DDIM run backwards (eta = 0): x_{t_next} = sqrt(abar_next) x0(x_t) + sqrt(1 - abar_next) eps(x_t).
/// Gives the x_T that DDIM sampling with the same model, conditioning and timesteps maps back to the image
/// (the second half of unCLIP's bipartite latent).
public static class DdimInversion
{
    /// untilIndex: stop at the timestep the sampler visits at that index (0: all the way to x_T), so sampling
    /// with StartIndex = untilIndex decodes the result back (DiffEdit's partial encoding).
    public static Tensor Invert(Denoiser model, PredictionType prediction, Tensor image, DdimScheduler scheduler, CancellationToken cancellation = default,
        int untilIndex = 0)
    {
        if (untilIndex < 0 || untilIndex >= scheduler.Timesteps.Count)
            throw new ArgumentOutOfRangeException(nameof(untilIndex), untilIndex, $"inversion must stop at one of the {scheduler.Timesteps.Count} visited steps");
        var ascending = scheduler.Timesteps.Skip(untilIndex).Reverse().ToArray();
        var schedule = scheduler.Schedule;
        var x = image.alias();
        for (int i = 0; i < ascending.Length; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            int tCurrent = i == 0 ? -1 : ascending[i - 1];
            int tNext = ascending[i];
            using var scope = NewDisposeScope();
            // The model is asked at the next (noisier) timestep: the usual approximation eps(x_t) ~ eps(x_next).
            var output = model(x, tNext);
            var predictionChannels = output.shape[1] == x.shape[1] ? output : output[.., ..(int)x.shape[1]];
            using var levelNext = Parameterization.Level(schedule.AlphaBar(tNext));
            var (_, eps) = Parameterization.ToX0AndEps(prediction, predictionChannels, x, levelNext);
            double aCur = schedule.AlphaBar(tCurrent), aNext = schedule.AlphaBar(tNext);
            var x0 = (x - Math.Sqrt(1 - aCur) * eps) / Math.Sqrt(aCur);
            var next = Math.Sqrt(aNext) * x0 + Math.Sqrt(1 - aNext) * eps;
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
        }
        return x;
    }
}
