using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Networks;

/// unCLIP's diffusion prior: a Transformer over [text tokens, text embedding, timestep, noised image
/// embedding, query] whose output at the query predicts the clean CLIP image embedding. Rows flagged in
/// dropConditioning see a learned null text instead, which gives classifier-free guidance its
/// unconditional half.
public sealed class DiffusionPrior : nn.Module
{
    readonly Linear _textTokens;
    readonly Linear _textEmbedding;
    readonly Parameter _nullTextEmbedding;
    readonly TimestepEmbedding _time;
    readonly Linear _noisedEmbedding;
    readonly Parameter _query;
    readonly Parameter _positionEmbedding;
    readonly ModuleList<TransformerBlock> _blocks;
    readonly LayerNorm _finalNorm;
    readonly Linear _output;

    public DiffusionPrior(PriorConfig config) : base(nameof(DiffusionPrior))
    {
        config.Validate();
        Config = config;
        _textTokens = nn.Linear(config.TextWidth, config.Width);
        _textEmbedding = nn.Linear(config.EmbedDim, config.Width);
        _nullTextEmbedding = nn.Parameter(zeros(config.Width));
        _time = new TimestepEmbedding(config.Width, config.Width);
        _noisedEmbedding = nn.Linear(config.EmbedDim, config.Width);
        _query = nn.Parameter(randn(config.Width) * 0.02);
        _positionEmbedding = nn.Parameter(randn(config.MaxTextLength + 4, config.Width) * 0.01);
        _blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new TransformerBlock(config.Width, config.Heads)).ToArray());
        _finalNorm = Init.LayerNorm(config.Width);
        _output = nn.Linear(config.Width, config.EmbedDim);
        RegisterComponents();
    }

    public PriorConfig Config { get; }

    /// noisedEmbedding: [B, E]; timesteps: [B]; dropConditioning: [B] bool or null (none dropped).
    public Tensor forward(Tensor noisedEmbedding, Tensor timesteps, TextEncoding text, Tensor? dropConditioning = null)
    {
        long b = noisedEmbedding.shape[0], length = text.Tokens.shape[1];
        if (length > Config.MaxTextLength)
            throw new ArgumentException($"text of {length} tokens is longer than the prior's max_text_length {Config.MaxTextLength}");
        if (FlopTally.Counting) FlopTally.Add(NetworkFlops.Prior(Config, b, length));
        using var scope = NewDisposeScope();
        var textTokens = _textTokens.forward(text.Tokens);
        var textEmbedding = _textEmbedding.forward(text.Pooled);
        var mask = text.Mask;
        if (dropConditioning is not null)
        {
            var drop = dropConditioning.view(b, 1);
            textEmbedding = where(drop, _nullTextEmbedding.unsqueeze(0).expand(b, -1), textEmbedding);
            mask = mask.logical_and(drop.logical_not());
        }
        var sequence = cat(new[]
        {
            textTokens,
            textEmbedding.unsqueeze(1),
            _time.forward(timesteps).unsqueeze(1),
            _noisedEmbedding.forward(noisedEmbedding).unsqueeze(1),
            _query.view(1, 1, -1).expand(b, 1, -1),
        }, 1);
        sequence = sequence + _positionEmbedding[..(int)(length + 4)].unsqueeze(0);
        var keyMask = cat(new[] { mask, ones(b, 4, dtype: @bool, device: mask.device) }, 1);
        foreach (var block in _blocks) sequence = block.forward(sequence, keyMask);
        var query = _finalNorm.forward(sequence[.., -1]);
        return _output.forward(query).MoveToOuterDisposeScope();
    }
}
