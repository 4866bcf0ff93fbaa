namespace DiffusionCluster.Models.Configs;

/// unCLIP diffusion prior: a Transformer that maps text (tokens + pooled embedding) and a noised CLIP image
/// embedding at timestep t to the clean image embedding.
public sealed record PriorConfig : INetworkConfig
{
    public int EmbedDim { get; init; } = 128;
    public int TextWidth { get; init; } = 128;
    public int MaxTextLength { get; init; } = 32;
    public int Width { get; init; } = 256;
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 4;
    public DiffusionConfig Diffusion { get; init; } = new() { Prediction = DiffusionCluster.Diffusion.PredictionType.Sample };

    public void Validate()
    {
        Check.Range(nameof(EmbedDim), EmbedDim, 1, 65536);
        Check.Range(nameof(TextWidth), TextWidth, 1, 65536);
        Check.Range(nameof(MaxTextLength), MaxTextLength, 1, 4096);
        Check.Range(nameof(Layers), Layers, 1, 128);
        Check.Divisible(nameof(Width), Width, nameof(Heads), Heads);
        Diffusion.Validate();
    }
}
