using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Networks;

/// Text -> a coarse picture of the scene [B, 3, Size, Size] in [-1, 1]. The caption's token ids go through
/// Transformer blocks of the model's own (trained for the layout, as Imagen's decoder reads a language model's tokens
/// rather than CLIP's: CLIP's contrastive text tower keeps the words but not which colour goes with which place);
/// then one learned query per cell of a Grid x Grid layout attends to the cells and to the words, and writes its
/// (Size / Grid)^2 pixels. Trained by regression: in the Shapes world a caption pins its picture down (relations such
/// as "above" leave the place open).
public sealed class LayoutNetwork : nn.Module
{
    readonly Embedding _words;
    readonly Parameter _wordPositions;
    readonly ModuleList<TransformerBlock> _textBlocks;
    readonly Parameter _cells;
    readonly ModuleList<CrossTransformerBlock> _blocks;
    readonly LayerNorm _finalNorm;
    readonly Linear _output;

    public LayoutNetwork(LayoutConfig config) : base(nameof(LayoutNetwork))
    {
        config.Validate();
        Config = config;
        int patch = config.Size / config.Grid;
        _words = nn.Embedding(config.VocabSize, config.Width);
        // Word and position vectors start at the same small scale (GPT-2's 0.02): with N(0, 1) words beside small
        // positions, the blocks see a bag of words and cannot tell "top right and bottom left" from "top left and
        // bottom right" (the first layout models painted all four corners).
        using (no_grad()) nn.init.normal_(_words.weight, 0, 0.02);
        _wordPositions = nn.Parameter(randn(config.MaxTextLength, config.Width) * 0.02);
        _textBlocks = nn.ModuleList(Enumerable.Range(0, config.TextLayers).Select(_ => new TransformerBlock(config.Width, config.Heads)).ToArray());
        _cells = nn.Parameter(CellPositions(config.Grid, config.Width) + randn(config.Grid * config.Grid, config.Width) * 0.02);
        _blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new CrossTransformerBlock(config.Width, config.Width, config.Heads)).ToArray());
        _finalNorm = Init.LayerNorm(config.Width);
        _output = nn.Linear(config.Width, 3 * patch * patch);
        RegisterComponents();
    }

    public LayoutConfig Config { get; }

    public Tensor forward(TextEncoding text) =>
        forward(text.Ids ?? throw new ArgumentException("the layout model reads token ids and the text encoding carries none"), text.Mask);

    /// ids: [B, L] token ids; mask: [B, L], true for real tokens.
    public Tensor forward(Tensor ids, Tensor mask)
    {
        long b = ids.shape[0], length = ids.shape[1];
        if (length > Config.MaxTextLength)
            throw new ArgumentException($"text of {length} tokens is longer than the layout model's max_text_length {Config.MaxTextLength}");
        if (ids.numel() > 0 && ids.max().item<long>() is var largest && largest >= Config.VocabSize)
            throw new ArgumentException($"token id {largest} is outside the layout model's vocab_size {Config.VocabSize}");
        if (FlopTally.Counting) FlopTally.Add(NetworkFlops.Layout(Config, b, length));
        using var scope = NewDisposeScope();
        int grid = Config.Grid, patch = Config.Size / grid;
        var words = _words.forward(ids) + _wordPositions[..(int)length].unsqueeze(0);
        foreach (var block in _textBlocks) words = block.forward(words, mask);
        var cells = _cells.unsqueeze(0).expand(b, -1, -1);
        foreach (var block in _blocks) cells = block.forward(cells, words, mask);
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
