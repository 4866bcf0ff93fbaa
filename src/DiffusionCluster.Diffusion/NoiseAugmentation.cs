using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// Noise conditioning augmentation for cascades (Ho et al., Imagen): the super-resolution stage sees its
/// upsampled low-resolution input noised to a level t_aug, and is told that level.
public static class NoiseAugmentation
{
    /// Training: a random level in [0, maxLevel] per sample. Returns the noised image and the levels [B].
    public static (Tensor Noised, Tensor Levels) Random(Tensor lowRes, NoiseSchedule schedule, int maxLevel, Generator? generator)
    {
        if (maxLevel < 0 || maxLevel >= schedule.Length)
            throw new ArgumentOutOfRangeException(nameof(maxLevel), maxLevel, $"augmentation level must be in [0, {schedule.Length - 1}]");
        using var scope = NewDisposeScope();
        var levels = randint(0, maxLevel + 1, new[] { lowRes.shape[0] }, dtype: int64, device: lowRes.device, generator: generator);
        var noise = GaussianNoise.Like(lowRes, generator);
        var noised = NoiseSchedule.AddNoise(lowRes, noise, schedule.AlphaBarFor(levels, (int)lowRes.dim(), lowRes.device));
        return (noised.MoveToOuterDisposeScope(), levels.MoveToOuterDisposeScope());
    }

    /// Sampling: one fixed level for the whole batch (DeepFloyd IF uses 250 of 1000 for stage II).
    public static (Tensor Noised, Tensor Levels) Fixed(Tensor lowRes, NoiseSchedule schedule, int level, Generator? generator)
    {
        if (level < 0 || level >= schedule.Length)
            throw new ArgumentOutOfRangeException(nameof(level), level, $"augmentation level must be in [0, {schedule.Length - 1}]");
        using var scope = NewDisposeScope();
        var noise = GaussianNoise.Like(lowRes, generator);
        var noised = level == 0 ? lowRes.alias() : schedule.AddNoise(lowRes, noise, level);
        var levels = full(new[] { lowRes.shape[0] }, level, int64, lowRes.device);
        return (noised.MoveToOuterDisposeScope(), levels.MoveToOuterDisposeScope());
    }
}
