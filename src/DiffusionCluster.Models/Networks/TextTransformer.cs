using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Networks;

/// CLIP's text tower: token + position embeddings, pre-norm Transformer blocks, and the final feature of the
/// last real token (the [SEP] end token) projected to the joint embedding space.
public sealed class TextTransformer : nn.Module
{
    public const long PadId = 0;

    readonly Embedding _tokenEmbedding;
    readonly Parameter _positionEmbedding;
    readonly ModuleList<TransformerBlock> _blocks;
    readonly LayerNorm _finalNorm;
    readonly Linear _projection;

    public TextTransformer(TextEncoderConfig config) : base(nameof(TextTransformer))
    {
        config.Validate();
        Config = config;
        _tokenEmbedding = nn.Embedding(config.VocabSize, config.Width);
        _positionEmbedding = nn.Parameter(randn(config.MaxLength, config.Width) * 0.01);
        _blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new TransformerBlock(config.Width, config.Heads)).ToArray());
        _finalNorm = Init.LayerNorm(config.Width);
        _projection = nn.Linear(config.Width, config.EmbedDim, hasBias: false);
        RegisterComponents();
    }

    public TextEncoderConfig Config { get; }

    /// tokenIds: [B, L] int64, padded with PadId, L at most max_length.
    public TextEncoding forward(Tensor tokenIds)
    {
        long length = tokenIds.shape[1];
        if (length > Config.MaxLength)
            throw new ArgumentException($"token sequence of {length} is longer than the text encoder's max_length {Config.MaxLength}");
        if (FlopTally.Counting) FlopTally.Add(NetworkFlops.Text(Config, tokenIds.shape[0], length));
        using var scope = NewDisposeScope();
        var mask = tokenIds.ne(PadId);
        var x = _tokenEmbedding.forward(tokenIds) + _positionEmbedding[..(int)length].unsqueeze(0);
        foreach (var block in _blocks) x = block.forward(x, mask);
        x = _finalNorm.forward(x);
        var last = (mask.to(int64).sum(1) - 1).clamp_min(0);
        var pooled = x[arange(x.shape[0], device: x.device), last];
        var embedding = _projection.forward(pooled);
        return new TextEncoding(x.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope(),
            tokenIds.clone().MoveToOuterDisposeScope());
    }
}
