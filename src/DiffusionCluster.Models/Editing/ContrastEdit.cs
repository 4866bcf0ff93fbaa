using static TorchSharp.torch;
using DiffusionCluster.Models.Networks;

namespace DiffusionCluster.Models.Editing;

/// What the 64px decoder is conditioned on for one side of a contrastive edit: a caption (null: z_i alone) and z_i.
public sealed record EditCondition(TextEncoding? Text, Tensor ImageEmbedding);

/// How a contrastive edit (text diff, attribute manipulation) runs, after DiffEdit (Couairon et al. 2022):
/// the mask comes from where the decoder's predictions under the target and source conditionings differ
/// (MaskDraws noise draws at MaskLevel x T, kept where at least MaskThreshold of the image's largest difference);
/// the source is DDIM-inverted under its own conditioning to Strength x T and sampled back under the target with
/// guidance Guidance against the source (the source's prediction plays the unconditional's part, so only what the
/// two conditionings disagree on is amplified), the source's pixels pasted outside the mask at every step.
public sealed record ContrastEditOptions
{
    public const int MaxMaskDraws = 32;
    public const double MaxGuidance = 30;

    public int Steps { get; init; } = Abstractions.InvertingOperation.DefaultInversionSteps;
    public double Strength { get; init; } = 0.7;
    public double Guidance { get; init; } = 2;
    public double MaskLevel { get; init; } = 0.5;
    public double MaskThreshold { get; init; } = 0.5;
    public int MaskDilation { get; init; } = 1;
    public int MaskDraws { get; init; } = 8;

    public static ContrastEditOptions Default { get; } = new();

    /// Throws naming the setting and its range.
    public void Validate()
    {
        if (Steps < 2 || Steps > 1000) throw new ArgumentException($"edit steps = {Steps}; allowed 2 to 1000");
        if (!(Strength > 0 && Strength <= 1)) throw new ArgumentException($"edit strength = {Strength}; allowed above 0 up to 1");
        if (!(Guidance >= 1 && Guidance <= MaxGuidance)) throw new ArgumentException($"edit guidance = {Guidance}; allowed 1 to {MaxGuidance}");
        if (!(MaskLevel > 0 && MaskLevel < 1)) throw new ArgumentException($"mask level = {MaskLevel}; allowed between 0 and 1");
        if (!(MaskThreshold > 0 && MaskThreshold <= 1)) throw new ArgumentException($"mask threshold = {MaskThreshold}; allowed above 0 up to 1");
        if (MaskDilation < 0 || MaskDilation > 8) throw new ArgumentException($"mask dilation = {MaskDilation}; allowed 0 to 8 pixels");
        if (MaskDraws < 1 || MaskDraws > MaxMaskDraws) throw new ArgumentException($"mask draws = {MaskDraws}; allowed 1 to {MaxMaskDraws}");
    }
}

/// A contrastive edit's result: the edited images [B, 3, 64, 64] and the mask [B, 1, 64, 64] (1 where edited).
public sealed record EditResult(Tensor Images, Tensor Mask) : IDisposable
{
    public void Dispose()
    {
        Images.Dispose();
        Mask.Dispose();
    }
}
