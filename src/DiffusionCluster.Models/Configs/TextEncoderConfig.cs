namespace DiffusionCluster.Models.Configs;

/// CLIP-style text transformer: token embeddings for cross-attention and a pooled, projected embedding.
public sealed record TextEncoderConfig : INetworkConfig
{
    public int VocabSize { get; init; } = 256;
    public int MaxLength { get; init; } = 32;
    public int Width { get; init; } = 128;
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 4;
    public int EmbedDim { get; init; } = 128;

    public void Validate()
    {
        Check.Range(nameof(VocabSize), VocabSize, 4, 1_000_000);
        Check.Range(nameof(MaxLength), MaxLength, 2, 4096);
        Check.Range(nameof(Layers), Layers, 1, 128);
        Check.Range(nameof(EmbedDim), EmbedDim, 1, 65536);
        Check.Divisible(nameof(Width), Width, nameof(Heads), Heads);
    }
}
