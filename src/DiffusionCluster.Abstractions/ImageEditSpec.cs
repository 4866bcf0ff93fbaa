namespace DiffusionCluster.Abstractions;

/// The image operations of the seed review, run by the decoder64 stage.
[GenerateSerializer, Alias("DiffusionCluster.ImageEditKind")]
public enum ImageEditKind
{
    /// The source's CLIP image embedding kept, the decoder's latent drawn afresh from the seed.
    Variation,
    /// Encode to the bipartite latent (z_i, x_T by DDIM inversion) and decode it back.
    Reconstruct,
    /// Frames from the source to Second, z_i (and x_T) slerped; the result is a strip of Frames images.
    Interpolate,
    /// Move the source's z_i from SourceCaption toward the prompt (DALL-E 2's text diffs), x_T kept.
    TextDiff,
    /// SDEdit: the prompt's image, started from the source noised to Strength.
    SdEdit,
    /// ILVR: the prompt's image, keeping the source's low frequencies (factor Factor) above Cutoff.
    Ilvr,
    /// Inpainting / uncropping: the prompt fills where Mask is 0 (RePaint, Resample rounds per step).
    Inpaint,
    /// DiffAE manipulation: z_i moved along the named attribute's direction by Amount, x_T kept.
    Attribute,
    /// Label-efficient segmentation: a colour-coded class mask of the image from decoder features.
    Segment,
}

/// An image operation as it travels with a request. Images are [1, 3, 64, 64] in [-1, 1] (the edge resizes
/// uploads); Mask is [1, 1, 64, 64] with 1 where the source is kept.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.ImageEditSpec")]
public sealed record ImageEditSpec
{
    public const int ImageSize = 64;
    public const double MinStrength = 0.05, MaxStrength = 1.0, MaxCutoff = 0.99;
    public const int MaxFactor = 32, MaxResample = 20, MaxFrames = 16, MinInversionSteps = 5, MaxInversionSteps = 250;

    [Id(0)] public required ImageEditKind Kind { get; init; }
    [Id(1)] public required WireTensor Image { get; init; }
    [Id(2)] public WireTensor? Mask { get; init; }
    [Id(3)] public WireTensor? Second { get; init; }
    [Id(4)] public string? SourceCaption { get; init; }
    [Id(5)] public double Strength { get; init; } = 0.6;
    [Id(6)] public int Factor { get; init; } = 8;
    [Id(7)] public double Cutoff { get; init; } = 0.3;
    [Id(8)] public int Resample { get; init; } = 5;
    [Id(9)] public double Amount { get; init; } = 0.5;
    [Id(10)] public int Frames { get; init; } = 8;
    [Id(11)] public bool InterpolateNoise { get; init; } = true;
    [Id(12)] public int InversionSteps { get; init; } = 50;
    /// The attribute a DiffAE manipulation moves toward ("red", "circle", ...).
    [Id(13)] public string? AttributeName { get; init; }

    public const double MaxAttributeAmount = 2;

    /// Operations whose result is decoded from the source's own embedding (no prior).
    public bool UsesSourceEmbedding => Kind is ImageEditKind.Variation or ImageEditKind.Reconstruct or ImageEditKind.Interpolate
        or ImageEditKind.TextDiff or ImageEditKind.Attribute or ImageEditKind.Segment;

    /// Operations where the prompt is optional (a caption, if any, of the source).
    public bool PromptOptional => Kind is ImageEditKind.Variation or ImageEditKind.Reconstruct or ImageEditKind.Interpolate or ImageEditKind.Attribute
        or ImageEditKind.Segment;

    public long Bytes => Image.Bytes + (Mask?.Bytes ?? 0) + (Second?.Bytes ?? 0) + 2L * (SourceCaption?.Length ?? 0);

    /// Range checks; each error names the parameter and its range.
    public void Validate(int size)
    {
        CheckImage(Image, "image", 3);
        switch (Kind)
        {
            case ImageEditKind.SdEdit when !(Strength >= MinStrength && Strength <= MaxStrength):
                throw new ArgumentException($"strength = {Strength}; allowed {MinStrength} to {MaxStrength}");
            case ImageEditKind.Ilvr when Factor < 1 || Factor > MaxFactor || ImageSize % Factor != 0:
                throw new ArgumentException($"ILVR factor N = {Factor}; allowed 1, 2, 4, 8, 16 or 32 (a divisor of {ImageSize})");
            case ImageEditKind.Ilvr when !(Cutoff >= 0 && Cutoff <= MaxCutoff):
                throw new ArgumentException($"ILVR cut-off = {Cutoff}; allowed 0 to {MaxCutoff} (a fraction of the noise schedule)");
            case ImageEditKind.Inpaint when Mask is null:
                throw new ArgumentException("inpainting needs a mask");
            case ImageEditKind.Inpaint when Resample < 1 || Resample > MaxResample:
                throw new ArgumentException($"resample = {Resample}; allowed 1 to {MaxResample}");
            case ImageEditKind.TextDiff when string.IsNullOrWhiteSpace(SourceCaption):
                throw new ArgumentException("a text diff needs the source image's caption (source_caption)");
            case ImageEditKind.TextDiff when !(Amount >= 0 && Amount <= 1):
                throw new ArgumentException($"text diff amount = {Amount}; allowed 0 to 1");
            case ImageEditKind.Attribute when string.IsNullOrWhiteSpace(AttributeName):
                throw new ArgumentException("an attribute manipulation needs the attribute's name (e.g. red, circle)");
            case ImageEditKind.Attribute when !(Math.Abs(Amount) <= MaxAttributeAmount):
                throw new ArgumentException($"attribute amount = {Amount}; allowed -{MaxAttributeAmount} to {MaxAttributeAmount}");
            case ImageEditKind.Interpolate when Second is null:
                throw new ArgumentException("interpolation needs a second image");
            case ImageEditKind.Interpolate when Frames < 2 || Frames > MaxFrames:
                throw new ArgumentException($"frames = {Frames}; allowed 2 to {MaxFrames}");
            case ImageEditKind.Interpolate when size != ImageSize:
                throw new ArgumentException($"interpolation makes a strip of {ImageSize} px frames; size {size} is not supported for it, use {ImageSize}");
            case ImageEditKind.Segment when size != ImageSize:
                throw new ArgumentException($"segmentation masks are {ImageSize}x{ImageSize}; size {size} is not supported for it, use {ImageSize}");
        }
        if (Kind is ImageEditKind.Reconstruct or ImageEditKind.Interpolate or ImageEditKind.TextDiff or ImageEditKind.Attribute
            && (InversionSteps < MinInversionSteps || InversionSteps > MaxInversionSteps))
            throw new ArgumentException($"inversion steps = {InversionSteps}; allowed {MinInversionSteps} to {MaxInversionSteps}");
        if (Mask is not null) CheckImage(Mask, "mask", 1);
        if (Second is not null) CheckImage(Second, "second image", 3);
    }

    static void CheckImage(WireTensor image, string name, int channels)
    {
        long[] expected = [1, channels, ImageSize, ImageSize];
        if (!image.Shape.SequenceEqual(expected) || image.Values.Length != channels * ImageSize * ImageSize)
            throw new ArgumentException($"the {name} is [{string.Join(", ", image.Shape)}]; it must be [{string.Join(", ", expected)}] (the edge resizes uploads to {ImageSize}x{ImageSize})");
    }
}
