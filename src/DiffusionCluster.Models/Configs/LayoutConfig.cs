namespace DiffusionCluster.Models.Configs;

/// The layout model: a Transformer that reads the caption's token ids and writes a coarse picture of the scene
/// (Size x Size pixels, the ImageSize render average-pooled), one token per Grid x Grid cell.
public sealed record LayoutConfig : INetworkConfig
{
    /// The tokenizer's ids (the folder's text_encoder tokenizer); the model embeds them itself.
    public int VocabSize { get; init; } = 256;
    /// Bidirectional Transformer blocks over the words, before the cells read them.
    public int TextLayers { get; init; } = 4;
    public int MaxTextLength { get; init; } = 48;
    public int Width { get; init; } = 128;
    /// Cell blocks: the cells attend to each other and to the words.
    public int Layers { get; init; } = 2;
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
        Check.Range(nameof(MaxTextLength), MaxTextLength, 1, 4096);
        Check.Range(nameof(Layers), Layers, 1, 128);
        Check.Range(nameof(VocabSize), VocabSize, 1, 1 << 20);
        Check.Range(nameof(TextLayers), TextLayers, 0, 128);
        Check.Divisible(nameof(Width), Width, nameof(Heads), Heads);
        Check.Range(nameof(Grid), Grid, 1, 256);
        Check.Divisible(nameof(Size), Size, nameof(Grid), Grid);
        Check.Divisible(nameof(ImageSize), ImageSize, nameof(Size), Size);
    }
}
