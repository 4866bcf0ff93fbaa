using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Layers;

/// Construction helpers that fix TorchSharp defaults we cannot rely on.
internal static class Init
{
    /// TorchSharp 0.107's GroupNorm leaves weight and bias uninitialised (NaN, 1e13 seen): set them to 1 and 0.
    public static GroupNorm GroupNorm(long channels)
    {
        var norm = nn.GroupNorm(Groups(channels), channels);
        using (no_grad())
        {
            norm.weight!.fill_(1);
            norm.bias!.fill_(0);
        }
        return norm;
    }

    public static LayerNorm LayerNorm(long width)
    {
        var norm = nn.LayerNorm(width);
        using (no_grad())
        {
            norm.weight!.fill_(1);
            norm.bias!.fill_(0);
        }
        return norm;
    }

    /// A layer whose output starts at zero, so a residual branch starts as the identity.
    public static T Zeroed<T>(T module) where T : nn.Module
    {
        using (no_grad())
            foreach (var (_, p) in module.named_parameters())
                p.zero_();
        return module;
    }

    /// The largest group count <= 32 that divides the channels.
    static long Groups(long channels)
    {
        for (long g = Math.Min(32, channels); g > 1; g--)
            if (channels % g == 0) return g;
        return 1;
    }
}
