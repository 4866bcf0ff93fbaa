using static TorchSharp.torch;

namespace DiffusionCluster.Models.Networks;

/// Everything a U-Net stage may be conditioned on; which parts are required follows from its config.
/// LowRes is the previous stage's image at its own resolution; AugmentationLevel [B] its noise level.
/// DropConditioning [B] bool marks rows that see the null condition (classifier-free guidance).
/// DropText [B] bool marks rows that lose only their text and keep the image embedding: the unCLIP decoder
/// conditioned on z_i alone, which is how an image with no caption is decoded (variations, interpolation).
public sealed record UNetConditioning(
    TextEncoding? Text = null,
    Tensor? ImageEmbedding = null,
    Tensor? LowRes = null,
    Tensor? AugmentationLevel = null,
    Tensor? DropConditioning = null,
    Tensor? DropText = null)
{
    /// Every row's conditioning `times` over, as [all rows; all rows; ...]: for a batch of x built the same way
    /// (guided and unguided rows in one pass, or several windows of each image).
    public UNetConditioning Repeat(int times)
    {
        Tensor? Repeated(Tensor? t) => t is null || times == 1 ? t : cat(Enumerable.Repeat(t, times).ToArray());
        return new UNetConditioning(Text?.Repeat(times), Repeated(ImageEmbedding), Repeated(LowRes), Repeated(AugmentationLevel),
            Repeated(DropConditioning), Repeated(DropText));
    }

    /// These rows followed by other's, as [these; other's]: two conditionings in one forward pass (a contrastive
    /// edit's target and source). Both must carry the same parts.
    public UNetConditioning Then(UNetConditioning other)
    {
        Tensor? Joined(Tensor? a, Tensor? b, string part) => (a, b) switch
        {
            (null, null) => null,
            (not null, not null) => cat(new[] { a, b }),
            _ => throw new ArgumentException($"both conditionings must carry {part} or neither"),
        };
        var text = (Text, other.Text) switch
        {
            (null, null) => null,
            (not null, not null) => new TextEncoding(cat(new[] { Text.Tokens, other.Text.Tokens }), cat(new[] { Text.Mask, other.Text.Mask }),
                cat(new[] { Text.Pooled, other.Text.Pooled }), Joined(Text.Ids, other.Text.Ids, "token ids")),
            _ => throw new ArgumentException("both conditionings must carry text or neither"),
        };
        return new UNetConditioning(text, Joined(ImageEmbedding, other.ImageEmbedding, "an image embedding"), Joined(LowRes, other.LowRes, "a low-resolution image"),
            Joined(AugmentationLevel, other.AugmentationLevel, "an augmentation level"), Joined(DropConditioning, other.DropConditioning, "dropped rows"),
            Joined(DropText, other.DropText, "dropped text"));
    }
}
