namespace DiffusionCluster.Models.Configs;

/// The layout model: a Transformer that reads the caption's token features and z_t and writes a coarse picture of
/// the scene (Size x Size pixels, the ImageSize render average-pooled), one token per Grid x Grid cell.
public sealed record LayoutConfig : INetworkConfig
{
    public int TextWidth { get; init; } = 128;
    /// 0: the cells read CLIP's token features. Above 0: the model embeds the token ids itself (this many ids) and
    /// runs TextLayers bidirectional Transformer blocks of its own over them, trained for the layout (as Imagen's
    /// decoder reads a language model's tokens rather than CLIP's).
    public int VocabSize { get; init; }
    public int TextLayers { get; init; }
    public int EmbedDim { get; init; } = 128;
    public int MaxTextLength { get; init; } = 48;
    public int Width { get; init; } = 128;
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 4;
    /// Cells per side; each cell's token writes a (Size / Grid) square of pixels.
    public int Grid { get; init; } = 8;
    /// The layout's side in pixels.
    public int Size { get; init; } = 16;
    /// The decoder's image side: the layout is that image average-pooled by ImageSize / Size.
    public int ImageSize { get; init; } = 64;

    [System.Text.Json.Serialization.JsonIgnore]
    public int Factor => ImageSize / Size;

    public void Validate()
    {
        Check.Range(nameof(TextWidth), TextWidth, 1, 65536);
        Check.Range(nameof(EmbedDim), EmbedDim, 1, 65536);
        Check.Range(nameof(MaxTextLength), MaxTextLength, 1, 4096);
        Check.Range(nameof(Layers), Layers, 1, 128);
        Check.Range(nameof(VocabSize), VocabSize, 0, 1 << 20);
        Check.Range(nameof(TextLayers), TextLayers, 0, 128);
        Check.Divisible(nameof(Width), Width, nameof(Heads), Heads);
        Check.Range(nameof(Grid), Grid, 1, 256);
        Check.Divisible(nameof(Size), Size, nameof(Grid), Grid);
        Check.Divisible(nameof(ImageSize), ImageSize, nameof(Size), Size);
    }
}
