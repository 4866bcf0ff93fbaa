using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// SDEdit (Meng et al.): noise a guide image to t0 = strength * T and run the reverse process from there.
public static class SdEdit
{
    /// Returns the noised guide and the visited index to start sampling at.
    public static (Tensor XStart, int StartIndex) Start(Tensor guide, double strength, IScheduler scheduler, Generator? generator)
    {
        int index = StartIndex(strength, scheduler);
        using var scope = NewDisposeScope();
        var noise = GaussianNoise.Like(guide, generator);
        var xStart = scheduler.Schedule.AddNoise(guide, noise, scheduler.Timesteps[index]);
        return (xStart.MoveToOuterDisposeScope(), index);
    }

    /// The first visited step at or below strength * T.
    public static int StartIndex(double strength, IScheduler scheduler)
    {
        if (strength is <= 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "SDEdit strength must be in (0, 1]: the fraction of the noise schedule to re-run");
        int target = (int)Math.Round(strength * (scheduler.Schedule.Length - 1));
        int index = 0;
        while (index < scheduler.Timesteps.Count - 1 && scheduler.Timesteps[index] > target) index++;
        return index;
    }
}
