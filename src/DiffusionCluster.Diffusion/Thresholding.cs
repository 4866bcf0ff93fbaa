using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// What to do with a predicted x_0 before the sampler step (Imagen section 2.3).
public abstract record Thresholding
{
    public abstract Tensor Apply(Tensor x0);

    public static Thresholding None { get; } = new NoThresholding();
    public static Thresholding Static { get; } = new StaticThresholding();
    public static Thresholding Dynamic(double percentile = 0.995, double maxScale = double.PositiveInfinity) =>
        new DynamicThresholding(percentile, maxScale);

    /// Parses "none", "static", "dynamic", "dynamic:0.95" or "dynamic:0.95:1.5" (percentile, cap).
    public static Thresholding Parse(string spec)
    {
        var parts = spec.Trim().ToLowerInvariant().Split(':');
        return parts[0] switch
        {
            "none" when parts.Length == 1 => None,
            "static" when parts.Length == 1 => Static,
            "dynamic" when parts.Length <= 3 => Dynamic(
                parts.Length > 1 ? double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 0.995,
                parts.Length > 2 ? double.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) : double.PositiveInfinity),
            _ => throw new ArgumentException($"thresholding \"{spec}\" is not one of none, static, dynamic[:percentile[:cap]]"),
        };
    }
}

public sealed record NoThresholding : Thresholding
{
    public override Tensor Apply(Tensor x0) => x0.alias();
}

/// Clip x_0 to [-1, 1].
public sealed record StaticThresholding : Thresholding
{
    public override Tensor Apply(Tensor x0)
    {
        using Scalar low = -1, high = 1; // held to the end: TorchRuntime says why
        return x0.clamp(low, high);
    }
}

/// s = clamp(quantile_p(|x_0|), 1, cap) per sample; x_0 <- clamp(x_0, -s, s) / s.
public sealed record DynamicThresholding : Thresholding
{
    public DynamicThresholding(double percentile, double maxScale)
    {
        if (percentile is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "percentile must be in (0, 1]");
        if (maxScale < 1) throw new ArgumentOutOfRangeException(nameof(maxScale), maxScale, "the cap on s must be at least 1");
        Percentile = percentile;
        MaxScale = maxScale;
    }

    public double Percentile { get; }
    public double MaxScale { get; }

    public override Tensor Apply(Tensor x0)
    {
        using var scope = NewDisposeScope();
        var flat = x0.abs().reshape(x0.shape[0], -1);
        using var q = tensor(Percentile, flat.dtype, flat.device);
        var s = flat.quantile(q, dim: 1, keepdim: true).clamp(1, double.IsPositiveInfinity(MaxScale) ? null : MaxScale);
        var shape = Enumerable.Repeat(1L, (int)x0.dim()).ToArray();
        shape[0] = -1;
        s = s.reshape(shape);
        return (torch.maximum(torch.minimum(x0, s), -s) / s).MoveToOuterDisposeScope();
    }
}

/// Thresholding for a stage that diffuses a scaled residual over a base image (image = base + x_0 / scale): the
/// inner rule acts on the image the residual makes, so "static" keeps base + residual in [-1, 1] instead of
/// clipping the residual itself, which is not an image.
public sealed record ResidualThresholding(Thresholding Inner, Tensor Base, double Scale) : Thresholding
{
    public override Tensor Apply(Tensor x0)
    {
        using var scope = NewDisposeScope();
        using Scalar scale = Scale; // held to the end: TorchRuntime says why
        var image = Inner.Apply(Base + x0 / scale);
        return ((image - Base) * scale).MoveToOuterDisposeScope();
    }
}
