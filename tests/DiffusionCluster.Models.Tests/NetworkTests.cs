using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

public class TextTransformerTests
{
    [Fact]
    public void Produces_token_features_mask_and_pooled_embedding()
    {
        var encoder = Tiny.Seeded(1, () => new TextTransformer(Tiny.Text));

        using var text = Tiny.Encode(encoder);

        Assert.Equal(new long[] { 2, 8, 16 }, text.Tokens.shape);
        Assert.Equal(new long[] { 2, 8 }, text.Mask.shape);
        Assert.Equal(new long[] { 2, 12 }, text.Pooled.shape);
        Assert.Equal(new long[] { 4, 6 }, text.Mask.sum(1).data<long>().ToArray());
    }

    [Fact]
    public void Same_seed_same_output_and_padding_does_not_matter()
    {
        var a = Tiny.Seeded(2, () => new TextTransformer(Tiny.Text));
        var b = Tiny.Seeded(2, () => new TextTransformer(Tiny.Text));
        using var shortTokens = tensor(new long[] { 2, 7, 9, 3 }, new long[] { 1, 4 });

        using var ta = Tiny.Encode(a, 1);
        using var tb = Tiny.Encode(b, 1);
        using var unpadded = a.forward(shortTokens);

        Assert.Equal(0, Tiny.MaxAbsDiff(ta.Pooled, tb.Pooled));
        Assert.True(Tiny.MaxAbsDiff(ta.Pooled, unpadded.Pooled) < 1e-5);
    }

    [Fact]
    public void Rejects_sequences_longer_than_max_length()
    {
        var encoder = new TextTransformer(Tiny.Text);

        var error = Assert.Throws<ArgumentException>(() => encoder.forward(ones(1, 9, dtype: int64)));

        Assert.Contains("max_length 8", error.Message);
    }
}

public class ImageEncoderTests
{
    [Fact]
    public void Embeds_images_deterministically_under_a_seed()
    {
        var a = Tiny.Seeded(3, () => new ImageEncoder(Tiny.Image));
        var b = Tiny.Seeded(3, () => new ImageEncoder(Tiny.Image));
        using var images = rand(2, 3, 16, 16) * 2 - 1;

        using var ea = a.forward(images);
        using var eb = b.forward(images);

        Assert.Equal(new long[] { 2, 12 }, ea.shape);
        Assert.Equal(0, Tiny.MaxAbsDiff(ea, eb));
    }

    [Fact]
    public void Noise_aware_variant_depends_on_the_timestep()
    {
        var encoder = Tiny.Seeded(4, () => new ImageEncoder(Tiny.Image with { TimeConditioned = true }));
        using var images = rand(1, 3, 16, 16);
        // The time path enters through zero-initialised convolutions; perturb so it shows.
        using (no_grad())
            foreach (var (_, p) in encoder.named_parameters()) p.add_(randn_like(p) * 0.05);

        using var early = encoder.forward(images, tensor(new long[] { 10 }));
        using var late = encoder.forward(images, tensor(new long[] { 900 }));

        Assert.True(Tiny.MaxAbsDiff(early, late) > 1e-4);
        Assert.Throws<ArgumentException>(() => encoder.forward(images));
    }

    [Fact]
    public void Rejects_the_wrong_image_size()
    {
        var encoder = new ImageEncoder(Tiny.Image);

        var error = Assert.Throws<ArgumentException>(() => encoder.forward(zeros(1, 3, 32, 32)));

        Assert.Contains("16x16", error.Message);
    }
}

public class DiffusionPriorTests
{
    [Fact]
    public void Predicts_an_image_embedding_and_drops_conditioning_per_row()
    {
        var text = Tiny.Seeded(5, () => new TextTransformer(Tiny.Text));
        var prior = Tiny.Seeded(5, () => new DiffusionPrior(Tiny.Prior));
        using var encoded = Tiny.Encode(text);
        using (no_grad()) foreach (var (_, p) in prior.named_parameters()) p.add_(randn_like(p) * 0.05);
        using var noised = randn(2, 12);
        using var t = tensor(new long[] { 100, 500 });

        using var conditional = prior.forward(noised, t, encoded);
        using var drop = tensor(new[] { true, false });
        using var halfDropped = prior.forward(noised, t, encoded, drop);

        Assert.Equal(new long[] { 2, 12 }, conditional.shape);
        Assert.True(Tiny.MaxAbsDiff(conditional[0], halfDropped[0]) > 1e-2);
        Assert.True(Tiny.MaxAbsDiff(conditional[1], halfDropped[1]) < 1e-4);
    }
}

public class LayoutNetworkTests
{
    [Fact]
    public void Writes_a_coarse_picture_per_caption_that_depends_on_the_words_not_the_padding()
    {
        var text = Tiny.Seeded(5, () => new TextTransformer(Tiny.Text));
        var layout = Tiny.Seeded(5, () => new LayoutNetwork(Tiny.Layout));
        using var encoded = Tiny.Encode(text);
        using var _ = no_grad();
        using var picture = layout.forward(encoded);
        Assert.Equal(new long[] { 2, 3, 4, 4 }, picture.shape);
        Assert.True(Tiny.MaxAbsDiff(picture[0], picture[1]) > 1e-3);

        // The same caption alone in its batch: the same picture (rows do not mix), and again (deterministic).
        using var single = Tiny.Encode(text, batch: 1);
        using var alone = layout.forward(single);
        Assert.True(Tiny.MaxAbsDiff(alone[0], picture[0]) < 1e-5);
        using var again = layout.forward(single);
        Assert.Equal(0, Tiny.MaxAbsDiff(alone, again));
    }

    [Fact]
    public void Reads_the_order_of_the_words_not_only_which_words()
    {
        // "red top right , blue bottom left" and "blue top right , red bottom left" share their words: a bag of
        // words cannot place the colours, so the picture must change when only the order does.
        var layout = Tiny.Seeded(5, () => new LayoutNetwork(Tiny.Layout));
        using var ids = tensor(new long[] { 5, 6, 7, 8, 9, 10, 11, 0, 9, 6, 7, 8, 5, 10, 11, 0 }, new long[] { 2, 8 });
        using var mask = ids.ne(0);
        using var _ = no_grad();
        using var pictures = layout.forward(ids, mask);
        Assert.True(Tiny.MaxAbsDiff(pictures[0], pictures[1]) > 1e-4);
    }

    [Fact]
    public void Refuses_a_token_id_outside_its_vocabulary()
    {
        var layout = Tiny.Seeded(5, () => new LayoutNetwork(Tiny.Layout));
        using var ids = tensor(new long[] { 5, 40 }, new long[] { 1, 2 });
        using var mask = ids.ne(0);
        var error = Assert.Throws<ArgumentException>(() => layout.forward(ids, mask));
        Assert.Contains("token id 40 is outside the layout model's vocab_size 40", error.Message);
    }

    [Fact]
    public void Its_target_is_the_image_average_pooled_to_its_size()
    {
        var layout = Tiny.Seeded(5, () => new LayoutNetwork(Tiny.Layout));
        using var images = arange(2 * 3 * 16 * 16, dtype: float32).view(2, 3, 16, 16);
        using var target = layout.Target(images);
        Assert.Equal(new long[] { 2, 3, 4, 4 }, target.shape);
        Assert.Equal(images[0, 0, ..4, ..4].mean().item<float>(), target[0, 0, 0, 0].item<float>(), 3);
    }

    [Fact]
    public void Refuses_a_size_its_grid_does_not_divide()
    {
        var error = Assert.Throws<ArgumentException>(() => new LayoutNetwork(Tiny.Layout with { Size = 6, ImageSize = 18, Grid = 4 }));
        Assert.Contains("size = 6 is not divisible by grid = 4", error.Message);
    }
}
