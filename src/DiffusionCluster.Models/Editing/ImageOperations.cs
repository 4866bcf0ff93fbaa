using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Editing;

/// unCLIP's bipartite latent of an image: z_i from the CLIP image encoder and x_T from DDIM inversion of the
/// 64px decoder conditioned on z_i (and on the caption, when one is given).
/// Text is the caption encoding the inversion was conditioned on (null: z_i alone); decoding uses the same.
public sealed record BipartiteLatent(Tensor ImageEmbedding, Tensor Noise, TextEncoding? Text, int Steps) : IDisposable
{
    public void Dispose()
    {
        ImageEmbedding.Dispose();
        Noise.Dispose();
    }
}

/// The seed review's image operations on top of a cascade: encode/decode, variations, interpolation, text
/// diffs, SDEdit, ILVR and inpainting. Images are 64px [B, 3, 64, 64] in [-1, 1]; larger outputs go through
/// the cascade's SR stages. Operations take text already encoded (Text(caption) encodes one), so a silo
/// that hosts only the decoder runs them without the text encoder's weights.
public sealed class ImageOperations(CascadePipeline cascade)
{
    ImageEncoder? _imageEncoder, _noisyEncoder;

    public CascadePipeline Cascade { get; } = cascade;

    ImageEncoder ImageEncoder => _imageEncoder ??= Eval(CascadeFolder.LoadImageEncoder(Cascade.ModelFolder, device: Cascade.Device));
    ImageEncoder NoisyEncoder => _noisyEncoder ??= Eval(CascadeFolder.LoadImageEncoder(Cascade.ModelFolder, CascadeFolder.NoisyImageEncoder, Cascade.Device));

    /// Loads what the operations on a decoder silo need (decoder and CLIP image encoder) now, so the first
    /// request does not pay for it.
    public void Load() => _ = (Cascade.Decoder, ImageEncoder);

    /// The caption's encoding repeated batch times; null for no caption. Call outside a dispose scope.
    public TextEncoding? Text(string? caption, int batch = 1) =>
        string.IsNullOrWhiteSpace(caption) ? null : Cascade.Text.Encode(Enumerable.Repeat(caption, batch).ToList());

    ImageEncoder Eval(ImageEncoder encoder)
    {
        encoder.to(Cascade.Dtype);
        encoder.eval();
        return encoder;
    }

    /// z_i of 64px images, normalised into the space the prior and decoder use.
    public Tensor EmbedImages(Tensor images)
    {
        CheckImages(images);
        using var _ = no_grad();
        using var raw = ImageEncoder.forward(images.to(Cascade.Device).to(Cascade.Dtype));
        using var embedding = raw.to(ScalarType.Float32);
        return ClipSpace.Normalise(embedding);
    }

    public BipartiteLatent Encode(Tensor images, TextEncoding? text, int steps, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        var embedding = EmbedImages(images);
        var noise = Cascade.Decoder.Invert(text, embedding, images, steps, cancellation);
        return new BipartiteLatent(embedding.MoveToOuterDisposeScope(), noise.MoveToOuterDisposeScope(), text, steps);
    }

    /// Deterministic DDIM (eta 0, guidance 1, no thresholding) from the latent: the inverse of Encode.
    public Tensor Decode(BipartiteLatent latent) =>
        Decode(latent.ImageEmbedding, latent.Noise, latent.Text, latent.Steps, guidance: 1);

    public Tensor Decode(Tensor imageEmbedding, Tensor noise, TextEncoding? text, int steps, double guidance, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        int batch = (int)imageEmbedding.shape[0];
        var seeds = Enumerable.Repeat(0UL, batch).ToList();
        var options = new DecodeOptions { StartNoise = noise, WithoutText = text is null };
        return Cascade.Decoder.Sample(text, imageEmbedding, null, seeds, new SamplingOptions(Steps: steps, Guidance: guidance, Thresholding: "none", Eta: 0, Solver: SamplingOptions.Ddim), cancellation: cancellation, decode: options)
            .MoveToOuterDisposeScope();
    }

    /// Variations: the image's z_i kept, the decoder's latent drawn afresh from each seed, and (when the decoder has a
    /// layout model) the decoder held to the image's own layout picture for the layout share of its trajectory, so
    /// the composition comes from the image and not from a caption.
    /// image: one image [1, 3, 64, 64] for all seeds, or one per seed; text null or one row per seed.
    public Tensor Variations(Tensor image, TextEncoding? text, IReadOnlyList<ulong> seeds, SamplingOptions sampling,
        StepProgress? progress = null, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        var embedding = EmbedImages(image).expand(seeds.Count, -1);
        var decoder = Cascade.Decoder;
        var layout = decoder.HasLayout ? decoder.LayoutTarget(image.to(Cascade.Device)).expand(seeds.Count, -1, -1, -1) : null;
        return decoder.Sample(text, embedding, null, seeds, sampling, progress, cancellation,
            new DecodeOptions { WithoutText = text is null, Layout = layout }).MoveToOuterDisposeScope();
    }

    /// frames images from a to b: z_i slerped, x_T either a's throughout (fixed) or slerped too.
    public Tensor Interpolate(BipartiteLatent a, BipartiteLatent b, int frames, bool interpolateNoise, double guidance = 1,
        CancellationToken cancellation = default)
    {
        if (frames < 2 || frames > 64) throw new ArgumentException($"interpolation frames = {frames}; allowed 2 to 64");
        using var scope = NewDisposeScope();
        var fractions = Enumerable.Range(0, frames).Select(i => (double)i / (frames - 1)).ToList();
        var embeddings = cat(fractions.Select(f => ClipSpace.Normalise(Slerp.Interpolate(a.ImageEmbedding, b.ImageEmbedding, f))).ToArray());
        var noise = cat(fractions.Select(f => interpolateNoise ? Slerp.Interpolate(a.Noise, b.Noise, f) : a.Noise).ToArray());
        return Decode(embeddings, noise, null, a.Steps, guidance, cancellation).MoveToOuterDisposeScope();
    }

    /// DALL-E 2's text diff, localised: z_i moved along the great circle toward d = normalise(z_t(new) - z_t(old)) by
    /// amount (0: only the caption changes; 0.5 is as far as DALL-E 2 shows), and the image edited from the old caption
    /// and its own z_i toward the new caption and the moved z_i (ImageSampler.Edit), so what the captions agree on
    /// keeps the source's pixels. images [B, 3, 64, 64] with one caption row each.
    public EditResult TextDiff(Tensor images, TextEncoding oldText, TextEncoding newText, double amount, ContrastEditOptions options, ulong seed,
        StepProgress? progress = null, CancellationToken cancellation = default)
    {
        if (!(amount >= 0 && amount <= 1)) throw new ArgumentException($"text diff amount = {amount}; allowed 0 to 1");
        using var scope = NewDisposeScope();
        var embedding = EmbedImages(images);
        var direction = ClipSpace.Normalise(ClipSpace.Normalise(newText.Pooled) - ClipSpace.Normalise(oldText.Pooled)).to(embedding.device);
        var moved = ClipSpace.Normalise(Slerp.Interpolate(embedding, direction, amount));
        var result = Cascade.Decoder.Edit(images, new EditCondition(oldText, embedding), new EditCondition(newText, moved), options, seed, progress, cancellation);
        return new EditResult(result.Images.MoveToOuterDisposeScope(), result.Mask.MoveToOuterDisposeScope());
    }

    /// DiffAE's manipulation: z_i moved along an attribute direction by amount, and the image edited from its own z_i
    /// toward the moved one (ImageSampler.Edit; text: the caption both sides share, or null for z_i alone), so what the
    /// attribute does not describe keeps the source's pixels.
    public EditResult Manipulate(Tensor images, TextEncoding? text, AttributeDirections directions, string attribute, double amount,
        ContrastEditOptions options, ulong seed, StepProgress? progress = null, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        var embedding = EmbedImages(images);
        var moved = directions.Move(embedding, attribute, amount);
        var result = Cascade.Decoder.Edit(images, new EditCondition(text, embedding), new EditCondition(text, moved), options, seed, progress, cancellation);
        return new EditResult(result.Images.MoveToOuterDisposeScope(), result.Mask.MoveToOuterDisposeScope());
    }

    /// Text-to-image at 64px with an image edit (SDEdit, ILVR, inpainting) or CLIP guidance steering the decoder.
    public Tensor Generate(string prompt, IReadOnlyList<ulong> seeds, SamplingOptions decoder, DecodeOptions decode,
        SamplingOptions? prior = null, CancellationToken cancellation = default)
        => Cascade.SampleBases(Enumerable.Repeat(prompt, seeds.Count).ToList(), seeds, prior ?? SamplingOptions.Default, decoder, cancellation, decode);

    /// GLIDE's CLIP guidance toward a prompt with the noise-aware image encoder.
    public ClipGuidance ClipGuidance(string prompt, double scale)
    {
        var encoder = NoisyEncoder;
        using var noGrad = no_grad();
        var pooled = Cascade.Text.Encode([prompt]).Pooled;
        return new ClipGuidance(encoder, pooled, scale);
    }

    void CheckImages(Tensor images)
    {
        int size = Cascade.Decoder.OutputSize;
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != size || images.shape[3] != size)
            throw new ArgumentException($"images must be [B, 3, {size}, {size}]; got [{string.Join(", ", images.shape)}]");
    }
}
