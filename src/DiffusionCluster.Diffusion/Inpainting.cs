using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// Inpainting with an unconditional-in-the-mask model (RePaint, Lugmayr et al.): after each step the known
/// pixels are replaced by the known image noised to the level just reached, so only the unknown region is
/// generated. Uncropping is the same with the known region in the middle. Pair with SamplerOptions.Resample.
public sealed class Inpainting : IStepRefinement
{
    /// known: [B, C, H, W]; keep: [B or 1, 1, H, W] with 1 where the known image is kept, 0 where it is generated.
    public Inpainting(Tensor known, Tensor keep)
    {
        if (keep.dim() != 4 || keep.shape[1] != 1 || keep.shape[^1] != known.shape[^1] || keep.shape[^2] != known.shape[^2])
            throw new ArgumentException($"the mask must be [B, 1, {known.shape[^2]}, {known.shape[^1]}] to match the image; got [{string.Join(", ", keep.shape)}]");
        Known = known;
        Keep = keep;
    }

    public Tensor Known { get; }
    public Tensor Keep { get; }

    public Tensor Refine(Tensor x, int timestep, NoiseSchedule schedule, Generator? generator)
    {
        using var scope = NewDisposeScope();
        var known = timestep < 0
            ? Known.alias()
            : schedule.AddNoise(Known, GaussianNoise.Like(Known, generator), timestep);
        return (Keep * known + (1 - Keep) * x).MoveToOuterDisposeScope();
    }
}
