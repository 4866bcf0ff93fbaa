namespace DiffusionCluster.Models.Configs;

/// CLIP-style convolutional image encoder. With time_conditioned it also takes a timestep and is trained on
/// noised images: the noise-aware CLIP that CLIP guidance needs (GLIDE).
public sealed record ImageEncoderConfig : INetworkConfig
{
    public int ImageSize { get; init; } = 64;
    public int InChannels { get; init; } = 3;
    /// Width of each stage; every stage after the first halves the resolution.
    public int[] Channels { get; init; } = [32, 64, 128, 128];
    public int EmbedDim { get; init; } = 128;
    public bool TimeConditioned { get; init; }
    /// Stride of the first convolution (a patchify stem): 2 halves every later layer's cost.
    public int StemStride { get; init; } = 1;

    public int FinalResolution => ImageSize / StemStride >> (Channels.Length - 1);

    public void Validate()
    {
        Check.Range(nameof(ImageSize), ImageSize, 8, 4096);
        Check.Range(nameof(InChannels), InChannels, 1, 64);
        Check.Range(nameof(EmbedDim), EmbedDim, 1, 65536);
        if (Channels.Length is < 1 or > 8) throw new ArgumentException($"channels has {Channels.Length} stages; allowed 1 to 8");
        Check.Range(nameof(StemStride), StemStride, 1, 16);
        if (ImageSize % (StemStride << (Channels.Length - 1)) != 0)
            throw new ArgumentException($"image_size {ImageSize} is not divisible by stem_stride x 2^{Channels.Length - 1} for {Channels.Length} stages");
        foreach (var c in Channels) Check.Range("channels[]", c, 1, 8192);
    }
}
