namespace DiffusionCluster.Abstractions;

/// An image operation of the seed review as it travels with a request, run by the cascade's first image stage.
/// Images are [1, 3, 64, 64] in [-1, 1] (the edge resizes uploads). Each operation is its own record with only
/// the settings it reads.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.ImageOperation")]
public abstract record ImageOperation
{
    public const int ImageSize = 64;

    [Id(0)] public required WireTensor Image { get; init; }

    /// The operation's name in the API, the CLI and errors ("variation", "sdedit", ...).
    public abstract string Name { get; }

    /// Decoded from the source's own image embedding, so the request skips the prior.
    public virtual bool UsesSourceEmbedding => true;

    /// The prompt is optional (a caption, if any, of the source).
    public virtual bool PromptOptional => true;

    /// The text stage reads the source image (where the model has an image captioner): what the prompt leaves unsaid
    /// (places, sizes, colours, background) comes from the image rather than the seed, and without a prompt the image's
    /// own caption is used, so the decoder draws from what the image shows rather than from z_i alone.
    public virtual bool ReadsSourceScene => false;

    /// Requests whose operations have equal keys run in one batch; null: the operation runs one request per batch
    /// (it draws noise inside the sampling loop or encodes by inversion, so a result depends only on its own seed).
    public virtual string? BatchKey => null;

    public virtual long Bytes => Image.Bytes;

    /// Range checks for a request of this size; each error names the setting and its range.
    public virtual void Validate(int size) => CheckImage(Image, "image", 3);

    protected static void CheckImage(WireTensor image, string name, int channels)
    {
        long[] expected = [1, channels, ImageSize, ImageSize];
        if (!image.Shape.SequenceEqual(expected) || image.Values.Length != channels * ImageSize * ImageSize)
            throw new ArgumentException($"the {name} is [{string.Join(", ", image.Shape)}]; it must be [{string.Join(", ", expected)}] (the edge resizes uploads to {ImageSize}x{ImageSize})");
    }

    protected void CheckSize(int size, string what)
    {
        if (size != ImageSize) throw new ArgumentException($"{Name} makes {what}; size {size} is not supported for it, use {ImageSize}");
    }
}

/// The source's CLIP image embedding kept, the decoder's latent drawn afresh from the seed.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.VariationOperation")]
public sealed record VariationOperation : ImageOperation
{
    public override string Name => "variation";
    public override string? BatchKey => Name;
    public override bool ReadsSourceScene => true;
}

/// Label-efficient segmentation: a colour-coded class mask of the image from the decoder's features.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.SegmentOperation")]
public sealed record SegmentOperation : ImageOperation
{
    public override string Name => "segment";
    public override string? BatchKey => Name;

    public override void Validate(int size)
    {
        base.Validate(size);
        CheckSize(size, $"{ImageSize}x{ImageSize} class masks");
    }
}

/// SDEdit: the prompt's image, started from the source noised to Strength.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.SdEditOperation")]
public sealed record SdEditOperation : ImageOperation
{
    public const double MinStrength = 0.05, MaxStrength = 1.0;

    [Id(0)] public double Strength { get; init; } = 0.6;

    public override string Name => "sdedit";
    public override bool UsesSourceEmbedding => false;
    public override bool PromptOptional => false;
    public override string? BatchKey => $"{Name}:{Strength}";

    public override void Validate(int size)
    {
        base.Validate(size);
        if (!(Strength >= MinStrength && Strength <= MaxStrength)) throw new ArgumentException($"strength = {Strength}; allowed {MinStrength} to {MaxStrength}");
    }
}

/// ILVR: the prompt's image, keeping the source's low frequencies (downsampling factor Factor) above Cutoff.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.IlvrOperation")]
public sealed record IlvrOperation : ImageOperation
{
    public const int MaxFactor = 32;
    public const double MaxCutoff = 0.99;

    [Id(0)] public int Factor { get; init; } = 8;
    [Id(1)] public double Cutoff { get; init; } = 0.3;

    public override string Name => "ilvr";
    public override bool UsesSourceEmbedding => false;
    public override bool PromptOptional => false;

    public override void Validate(int size)
    {
        base.Validate(size);
        if (Factor < 1 || Factor > MaxFactor || ImageSize % Factor != 0)
            throw new ArgumentException($"ILVR factor N = {Factor}; allowed 1, 2, 4, 8, 16 or 32 (a divisor of {ImageSize})");
        if (!(Cutoff >= 0 && Cutoff <= MaxCutoff)) throw new ArgumentException($"ILVR cut-off = {Cutoff}; allowed 0 to {MaxCutoff} (a fraction of the noise schedule)");
    }
}

/// Inpainting / uncropping: the prompt fills where Mask [1, 1, 64, 64] is 0 (RePaint, Resample rounds per step).
[GenerateSerializer, Immutable, Alias("DiffusionCluster.InpaintOperation")]
public sealed record InpaintOperation : ImageOperation
{
    public const int MaxResample = 20;

    [Id(0)] public required WireTensor Mask { get; init; }
    [Id(1)] public int Resample { get; init; } = 5;

    public override string Name => "inpaint";
    public override bool UsesSourceEmbedding => false;
    public override bool PromptOptional => false;
    public override long Bytes => base.Bytes + Mask.Bytes;

    public override void Validate(int size)
    {
        base.Validate(size);
        CheckImage(Mask, "mask", 1);
        if (Resample < 1 || Resample > MaxResample) throw new ArgumentException($"resample = {Resample}; allowed 1 to {MaxResample}");
    }
}

/// An operation that starts by encoding the source to the bipartite latent (z_i, and x_T by DDIM inversion).
[GenerateSerializer, Immutable, Alias("DiffusionCluster.InvertingOperation")]
public abstract record InvertingOperation : ImageOperation
{
    public const int MinInversionSteps = 5, MaxInversionSteps = 250, DefaultInversionSteps = 100;

    [Id(0)] public int InversionSteps { get; init; } = DefaultInversionSteps;

    public override void Validate(int size)
    {
        base.Validate(size);
        if (InversionSteps < MinInversionSteps || InversionSteps > MaxInversionSteps)
            throw new ArgumentException($"inversion steps = {InversionSteps}; allowed {MinInversionSteps} to {MaxInversionSteps}");
    }
}

/// The bipartite latent decoded back.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.ReconstructOperation")]
public sealed record ReconstructOperation : InvertingOperation
{
    public override string Name => "reconstruct";
}

/// Frames from the source to Second, z_i (and x_T when InterpolateNoise) slerped; the result is a strip of Frames images.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.InterpolateOperation")]
public sealed record InterpolateOperation : InvertingOperation
{
    public const int MaxFrames = 16;

    [Id(0)] public required WireTensor Second { get; init; }
    [Id(1)] public int Frames { get; init; } = 8;
    [Id(2)] public bool InterpolateNoise { get; init; } = true;

    public override string Name => "interpolate";
    public override long Bytes => base.Bytes + Second.Bytes;

    public override void Validate(int size)
    {
        base.Validate(size);
        CheckImage(Second, "second image", 3);
        if (Frames < 2 || Frames > MaxFrames) throw new ArgumentException($"frames = {Frames}; allowed 2 to {MaxFrames}");
        CheckSize(size, $"a strip of {ImageSize} px frames");
    }
}

/// DALL-E 2's text diffs, localised: the source redrawn where SourceCaption and the prompt disagree, its z_i moved
/// toward the caption difference by Amount (the default is the amount that changed most on a tuning slice of
/// ShapeBench scenes, docs/APPLICATIONS.md).
[GenerateSerializer, Immutable, Alias("DiffusionCluster.TextDiffOperation")]
public sealed record TextDiffOperation : InvertingOperation
{
    public const double DefaultAmount = 0.25;

    [Id(0)] public required string SourceCaption { get; init; }
    [Id(1)] public double Amount { get; init; } = DefaultAmount;

    public override string Name => "textdiff";
    public override bool ReadsSourceScene => true;
    public override bool PromptOptional => false;
    public override long Bytes => base.Bytes + 2L * SourceCaption.Length;

    public override void Validate(int size)
    {
        base.Validate(size);
        if (string.IsNullOrWhiteSpace(SourceCaption)) throw new ArgumentException("a text diff needs the source image's caption (source_caption)");
        if (!(Amount >= 0 && Amount <= 1)) throw new ArgumentException($"text diff amount = {Amount}; allowed 0 to 1");
    }
}

/// DiffAE manipulation: z_i moved along the named attribute's direction ("red", "circle", ...) by Amount, the source
/// redrawn where that changes the decoder's prediction.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.AttributeOperation")]
public sealed record AttributeOperation : InvertingOperation
{
    public const double MaxAmount = 2, DefaultAmount = 0.5;

    [Id(0)] public required string Attribute { get; init; }
    [Id(1)] public double Amount { get; init; } = DefaultAmount;

    public override string Name => "attribute";

    public override void Validate(int size)
    {
        base.Validate(size);
        if (string.IsNullOrWhiteSpace(Attribute)) throw new ArgumentException("an attribute manipulation needs the attribute's name (e.g. red, circle)");
        if (!(Math.Abs(Amount) <= MaxAmount)) throw new ArgumentException($"attribute amount = {Amount}; allowed -{MaxAmount} to {MaxAmount}");
    }
}
