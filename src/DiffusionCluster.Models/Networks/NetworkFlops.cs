using DiffusionCluster.Models.Configs;

namespace DiffusionCluster.Models.Networks;

/// Floating-point operations of one forward pass, counted analytically from a network's config and its input's
/// shape: every convolution, linear layer and attention product (a multiply-add is two operations, as FLOP counts
/// of networks conventionally are). Normalisation, activations, elementwise arithmetic, embedding lookups and
/// resampling are left out: they are memory-bound and small beside the products. Each walk mirrors its network's
/// constructor and forward; NetworkFlopsTests checks that the layers it counts hold exactly the network's weights.
public static class NetworkFlops
{
    /// A U-Net evaluation on x of [batch, in_channels, height, width], with textTokens caption tokens (0 without a
    /// caption) and an image embedding when the decoder reads one.
    public static Count UNet(UNetConfig config, long batch, long height, long width, long textTokens, bool imageEmbedding)
    {
        var count = new Count();
        long embed = config.BaseChannels * 4L, patchArea = (long)config.PatchSize * config.PatchSize, context = config.ContextDim;
        bool imageTokens = imageEmbedding && context > 0 && config.ImageTokens > 0;
        long contextTokens = context > 0 ? 1 + textTokens + (imageTokens ? config.ImageTokens : 0) : 0;

        TimestepEmbedding(count, config.BaseChannels, embed, batch);
        if (config.LowResChannels > 0) TimestepEmbedding(count, config.BaseChannels, embed, batch);
        if (config.NoiseInputGate) count.Linear(embed, config.InChannels, batch);
        if (config.ImageEmbedDim > 0 && imageEmbedding)
        {
            count.Linear(config.ImageEmbedDim, embed, batch);
            if (imageTokens) count.Linear(config.ImageEmbedDim, config.ImageTokens * context, batch);
        }
        if (context > 0 && textTokens > 0) count.Linear(context, context, batch * textTokens);

        long side(int level) => (height / config.PatchSize) >> level;
        long across(int level) => (width / config.PatchSize) >> level;
        void block(long inChannels, long outChannels, int level, bool attention)
        {
            ResBlock(count, inChannels, outChannels, embed, batch * side(level) * across(level), batch);
            if (attention) SpatialAttention(count, outChannels, context, batch, side(level) * across(level), contextTokens);
        }

        long channels = config.BaseChannels * (long)config.ChannelMult[0];
        long inputChannels = config.InChannels + config.LowResChannels + (config.CoordinateChannels ? 2 : 0);
        count.Conv(inputChannels * patchArea, channels, 3, batch * side(0) * across(0));
        var skips = new Stack<long>();
        skips.Push(channels);
        for (int level = 0; level < config.Levels; level++)
        {
            long levelWidth = config.BaseChannels * (long)config.ChannelMult[level];
            for (int r = 0; r < config.ResBlocksPerLevel; r++)
            {
                block(channels, levelWidth, level, config.HasAttention(level));
                channels = levelWidth;
                skips.Push(channels);
            }
            if (level < config.Levels - 1)
            {
                count.Conv(channels, channels, 3, batch * side(level + 1) * across(level + 1));
                skips.Push(channels);
            }
        }
        int coarsest = config.Levels - 1;
        if (config.ImageMapChannels > 0 && imageEmbedding)
        {
            count.Linear(config.ImageEmbedDim, (long)config.ImageMapChannels * config.CoarsestSize * config.CoarsestSize, batch);
            count.Conv(config.ImageMapChannels, channels, 1, batch * side(coarsest) * across(coarsest));
        }
        block(channels, channels, coarsest, config.AttentionResolutions.Length > 0);
        ResBlock(count, channels, channels, embed, batch * side(coarsest) * across(coarsest), batch);
        for (int level = config.Levels - 1; level >= 0; level--)
        {
            if (config.LayoutMapChannels > 0 && imageEmbedding && level == config.LayoutLevel)
            {
                long hidden = 4L * config.ImageEmbedDim, mapSide = config.LayoutMapSize;
                count.Linear(config.ImageEmbedDim + context, hidden, batch);
                count.Linear(hidden, config.LayoutMapChannels * mapSide * mapSide, batch);
                count.Conv(config.LayoutMapChannels, channels, 1, batch * side(level) * across(level));
            }
            long levelWidth = config.BaseChannels * (long)config.ChannelMult[level];
            for (int r = 0; r <= config.ResBlocksPerLevel; r++)
            {
                block(channels + skips.Pop(), levelWidth, level, config.HasAttention(level));
                channels = levelWidth;
            }
            if (level > 0) count.Conv(channels, channels, 3, batch * side(level - 1) * across(level - 1));
        }
        count.Conv(channels, config.OutChannels * patchArea, 3, batch * side(0) * across(0));
        return count;
    }

    /// A prior evaluation of a batch whose captions are textTokens long.
    public static Count Prior(PriorConfig config, long batch, long textTokens)
    {
        var count = new Count();
        long tokens = textTokens + 4;
        count.Linear(config.TextWidth, config.Width, batch * textTokens);
        count.Linear(config.EmbedDim, config.Width, batch);
        TimestepEmbedding(count, config.Width, config.Width, batch);
        count.Linear(config.EmbedDim, config.Width, batch);
        for (int layer = 0; layer < config.Layers; layer++) TransformerBlock(count, config.Width, batch, tokens);
        count.Linear(config.Width, config.EmbedDim, batch);
        return count;
    }

    /// The text encoder on a batch of token sequences of the given length.
    public static Count Text(TextEncoderConfig config, long batch, long tokens)
    {
        var count = new Count();
        for (int layer = 0; layer < config.Layers; layer++) TransformerBlock(count, config.Width, batch, tokens);
        count.Linear(config.Width, config.EmbedDim, batch);
        return count;
    }

    /// The layout model on a batch of token sequences of the given length.
    public static Count Layout(LayoutConfig config, long batch, long tokens)
    {
        var count = new Count();
        long cells = (long)config.Grid * config.Grid, patch = config.Size / config.Grid;
        for (int layer = 0; layer < config.TextLayers; layer++) TransformerBlock(count, config.Width, batch, tokens);
        for (int layer = 0; layer < config.Layers; layer++)
        {
            Attention(count, config.Width, config.Width, batch, cells, cells);
            Attention(count, config.Width, config.Width, batch, cells, tokens);
            Mlp(count, config.Width, batch * cells);
        }
        count.Linear(config.Width, 3 * patch * patch, batch * cells);
        return count;
    }

    static void TimestepEmbedding(Count count, long features, long width, long batch)
    {
        count.Linear(features, width, batch);
        count.Linear(width, width, batch);
    }

    static void ResBlock(Count count, long inChannels, long outChannels, long embed, long pixels, long batch)
    {
        count.Conv(inChannels, outChannels, 3, pixels);
        count.Linear(embed, 2 * outChannels, batch);
        count.Conv(outChannels, outChannels, 3, pixels);
        if (inChannels != outChannels) count.Conv(inChannels, outChannels, 1, pixels);
    }

    static void SpatialAttention(Count count, long channels, long context, long batch, long pixels, long contextTokens)
    {
        Attention(count, channels, channels, batch, pixels, pixels);
        if (context > 0) Attention(count, channels, context, batch, pixels, contextTokens);
        count.Linear(channels, channels, batch * pixels);
    }

    static void TransformerBlock(Count count, long width, long batch, long tokens)
    {
        Attention(count, width, width, batch, tokens, tokens);
        Mlp(count, width, batch * tokens);
    }

    static void Mlp(Count count, long width, long tokens)
    {
        count.Linear(width, 4 * width, tokens);
        count.Linear(4 * width, width, tokens);
    }

    /// MultiHeadAttention: query and output projections over the queries, key and value over the context, and the two
    /// products (scores, then the weighted values) over all heads together.
    static void Attention(Count count, long width, long contextWidth, long batch, long queries, long keys)
    {
        count.Linear(width, width, batch * queries);
        count.Linear(contextWidth, width, batch * keys);
        count.Linear(contextWidth, width, batch * keys);
        count.Linear(width, width, batch * queries);
        count.Product(2 * 2 * batch * queries * keys * width);
    }

    /// Operations and the weights of the layers that performed them.
    public sealed class Count
    {
        /// Floating-point operations.
        public long Flops { get; private set; }

        /// Weights (not biases) of the convolutions and linear layers counted: each layer once per forward, so this
        /// equals the network's own weight count when the walk mirrors it.
        public long Weights { get; private set; }

        public void Conv(long inChannels, long outChannels, long kernel, long outputPixels)
        {
            long weights = inChannels * outChannels * kernel * kernel;
            Weights += weights;
            Flops += 2 * weights * outputPixels;
        }

        public void Linear(long inFeatures, long outFeatures, long rows)
        {
            Weights += inFeatures * outFeatures;
            Flops += 2 * inFeatures * outFeatures * rows;
        }

        public void Product(long flops) => Flops += flops;
    }
}
