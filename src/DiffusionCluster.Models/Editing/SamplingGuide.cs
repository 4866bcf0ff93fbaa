using static TorchSharp.torch;

namespace DiffusionCluster.Models.Editing;

/// How an image steers the 64px decoder's sampling. Images are [B, 3, 64, 64] in [-1, 1].
public abstract record SamplingGuide
{
    public const double MinStrength = 0.05, MaxStrength = 1.0;
    public const int MaxIlvrFactor = 32, MaxResample = 20;

    /// Throws naming the parameter and its range.
    public abstract void Validate(int imageSize);
}

/// SDEdit: start from the guide noised to strength * T (0.05-1: more strength, less of the guide kept).
public sealed record SdEditGuide(Tensor Guide, double Strength) : SamplingGuide
{
    public override void Validate(int imageSize)
    {
        if (!(Strength >= MinStrength && Strength <= MaxStrength))
            throw new ArgumentException($"SDEdit strength = {Strength}; allowed {MinStrength} to {MaxStrength}");
    }
}

/// ILVR: keep the reference's low frequencies (down by Factor) while the timestep is above Cutoff * T.
public sealed record IlvrGuide(Tensor Reference, int Factor, double Cutoff) : SamplingGuide
{
    public override void Validate(int imageSize)
    {
        if (Factor < 1 || Factor > MaxIlvrFactor || imageSize % Factor != 0)
            throw new ArgumentException($"ILVR factor N = {Factor}; allowed a divisor of {imageSize} from 1 to {MaxIlvrFactor} (2, 4, 8, 16, 32)");
        if (!(Cutoff >= 0 && Cutoff < 1))
            throw new ArgumentException($"ILVR cut-off = {Cutoff}; allowed 0 (refine to the end) up to but not including 1");
    }
}

/// Inpainting / uncropping (RePaint): Keep [B, 1, 64, 64] is 1 where Known is kept, 0 where it is generated.
public sealed record InpaintGuide(Tensor Known, Tensor Keep, int Resample) : SamplingGuide
{
    public override void Validate(int imageSize)
    {
        if (Resample < 1 || Resample > MaxResample)
            throw new ArgumentException($"inpainting resample count = {Resample}; allowed 1 to {MaxResample}");
        if (Keep.dim() != 4 || Keep.shape[1] != 1 || Keep.shape[2] != imageSize || Keep.shape[3] != imageSize)
            throw new ArgumentException($"the mask is [{string.Join(", ", Keep.shape)}]; it must be one channel of {imageSize}x{imageSize}");
    }
}

/// Everything beyond the prompt that changes how the decoder samples.
public sealed record DecodeOptions
{
    /// The bipartite latent's x_T [B, 3, 64, 64], used instead of noise drawn from the seed.
    public Tensor? StartNoise { get; init; }
    /// Decode from the image embedding alone (no caption): what the decoder learned with its text dropped.
    public bool WithoutText { get; init; }
    /// An image that steers the trajectory (SDEdit, ILVR, inpainting).
    public SamplingGuide? Guide { get; init; }
    /// A picture of the scene at the layout model's size [B, 3, S, S] that the decoder is held to for the layout share
    /// of its trajectory instead of the layout model's picture of the caption: an image's own composition (variations).
    public Tensor? Layout { get; init; }
    /// GLIDE's CLIP guidance, applied on top of (or instead of, at guidance 1) classifier-free guidance.
    public ClipGuidance? Clip { get; init; }

    public static DecodeOptions None { get; } = new();
}
