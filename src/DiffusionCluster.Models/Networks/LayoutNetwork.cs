using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Networks;

/// Text -> a coarse picture of the scene [B, 3, Size, Size] in [-1, 1]: one learned query per cell of a Grid x Grid
/// layout, through Transformer decoder blocks (the cells attend to each other and to the caption's tokens and z_t);
/// each cell's output writes its (Size / Grid)^2 pixels. A cell finds the words about what lies there by attending
/// over the tokens, which is how a caption's "red ... at the top left" lands in the top-left cells. Trained by
/// regression: in the Shapes world a caption pins its picture down (relations such as "above" leave the place open).
public sealed class LayoutNetwork : nn.Module
{
    readonly Linear _textTokens;
    readonly Embedding? _words;
    readonly ModuleList<TransformerBlock> _textBlocks;
    readonly Linear _textEmbedding;
    readonly Parameter _tokenPositions;
    readonly Parameter _cells;
    readonly ModuleList<CrossTransformerBlock> _blocks;
    readonly LayerNorm _finalNorm;
    readonly Linear _output;

    public LayoutNetwork(LayoutConfig config) : base(nameof(LayoutNetwork))
    {
        config.Validate();
        Config = config;
        int patch = config.Size / config.Grid;
        _textTokens = nn.Linear(config.TextWidth, config.Width);
        _words = config.VocabSize > 0 ? nn.Embedding(config.VocabSize, config.Width) : null;
        _textBlocks = nn.ModuleList(Enumerable.Range(0, config.TextLayers).Select(_ => new TransformerBlock(config.Width, config.Heads)).ToArray());
        _textEmbedding = nn.Linear(config.EmbedDim, config.Width);
        _tokenPositions = nn.Parameter(randn(config.MaxTextLength, config.Width) * 0.01);
        _cells = nn.Parameter(CellPositions(config.Grid, config.Width) + randn(config.Grid * config.Grid, config.Width) * 0.02);
        _blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new CrossTransformerBlock(config.Width, config.Width, config.Heads)).ToArray());
        _finalNorm = Init.LayerNorm(config.Width);
        _output = nn.Linear(config.Width, 3 * patch * patch);
        RegisterComponents();
    }

    public LayoutConfig Config { get; }

    public Tensor forward(TextEncoding text)
    {
        long b = text.Tokens.shape[0], length = text.Tokens.shape[1];
        if (length > Config.MaxTextLength)
            throw new ArgumentException($"text of {length} tokens is longer than the layout model's max_text_length {Config.MaxTextLength}");
        using var scope = NewDisposeScope();
        int grid = Config.Grid, patch = Config.Size / grid;
        var words = _textTokens.forward(text.Tokens);
        if (_words is not null)
        {
            if (text.Ids is null) throw new ArgumentException("this layout model reads token ids and the text encoding carries none");
            words = words + _words.forward(text.Ids);
        }
        words = words + _tokenPositions[..(int)length].unsqueeze(0);
        foreach (var block in _textBlocks) words = block.forward(words, text.Mask);
        var context = cat(new[]
        {
            words,
            _textEmbedding.forward(text.Pooled).unsqueeze(1),
        }, 1);
        var contextMask = cat(new[] { text.Mask, ones(b, 1, dtype: @bool, device: text.Mask.device) }, 1);
        var cells = _cells.unsqueeze(0).expand(b, -1, -1);
        foreach (var block in _blocks) cells = block.forward(cells, context, contextMask);
        cells = _output.forward(_finalNorm.forward(cells));
        // [B, grid*grid, 3*patch*patch] -> [B, 3, grid*patch, grid*patch]
        var picture = cells.view(b, grid, grid, 3, patch, patch).permute(0, 3, 1, 4, 2, 5).reshape(b, 3, grid * patch, grid * patch);
        return picture.MoveToOuterDisposeScope();
    }

    /// The cells' starting queries [Grid * Grid, width]: sinusoids of the row in the first half of the features, of the
    /// column in the second, so from the first step a cell's query says where it is and can look for the words about it.
    static Tensor CellPositions(int grid, int width)
    {
        var values = new float[grid * grid * width];
        int pairs = width / 4;
        for (int row = 0; row < grid; row++)
            for (int column = 0; column < grid; column++)
                for (int i = 0; i < pairs; i++)
                {
                    double frequency = Math.PI * (i + 1) / (2 * grid);
                    int at = (row * grid + column) * width + 2 * i;
                    values[at] = (float)Math.Sin(frequency * (row + 0.5));
                    values[at + 1] = (float)Math.Cos(frequency * (row + 0.5));
                    values[at + width / 2] = (float)Math.Sin(frequency * (column + 0.5));
                    values[at + width / 2 + 1] = (float)Math.Cos(frequency * (column + 0.5));
                }
        return tensor(values, new long[] { grid * grid, width }) * 0.5;
    }

    /// The training target: images [B, 3, ImageSize, ImageSize] average-pooled to the layout's size (the low-pass that
    /// ILVR matches).
    public Tensor Target(Tensor images) => nn.functional.avg_pool2d(images, Config.Factor);
}
