namespace DiffusionCluster.Models.Configs;

/// Label-efficient segmentation (Baranchuk et al.): which decoder activations make the pixel features (the
/// noise levels the image is noised to and the decoder-path blocks read), and the per-pixel classifier.
/// in_channels 3 with no timesteps is the raw-pixel baseline.
public sealed record SegmentationConfig : INetworkConfig
{
    public int[] Timesteps { get; init; } = [100, 300];
    /// Indices of the decoder-path blocks whose outputs are used (0 = coarsest).
    public int[] Blocks { get; init; } = [1, 3, 5];
    public int InChannels { get; init; } = 448;
    public int Hidden { get; init; } = 64;
    public string[] Classes { get; init; } = [];
    /// Seeds the noise the image is noised with, so features (and masks) are deterministic.
    public ulong NoiseSeed { get; init; } = 17;

    [System.Text.Json.Serialization.JsonIgnore]
    public bool UsesDecoder => Timesteps.Length > 0;

    public void Validate()
    {
        Check.Range(nameof(InChannels), InChannels, 1, 1 << 16);
        Check.Range(nameof(Hidden), Hidden, 1, 1 << 14);
        if (Classes.Length < 2) throw new ArgumentException($"classes has {Classes.Length} names; a segmentation needs at least 2");
        foreach (var t in Timesteps) Check.Range("timesteps[]", t, 0, 100_000);
        foreach (var b in Blocks) Check.Range("blocks[]", b, 0, 1024);
        if (Timesteps.Length > 0 && Blocks.Length == 0) throw new ArgumentException("blocks is empty; name the decoder blocks to read");
    }
}
