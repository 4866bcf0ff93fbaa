using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;

namespace DiffusionCluster.Cli.Commands;

/// Per-stage sampling options on the command line: --<stage>-steps, -guidance, -thresholding, -eta, -aug, -layout.
public static class StageOptions
{
    /// Only the options given are set; the rest stay unset and take the model folder's defaults.
    public static SamplingOptions Read(Arguments args, string stage) => new(
        args.WasGiven($"{stage}-steps") ? args.Int($"{stage}-steps", 0, 1, SamplingOptions.MaxSteps) : null,
        args.WasGiven($"{stage}-guidance") ? args.Double($"{stage}-guidance", 0, 0, SamplingOptions.MaxGuidance) : null,
        args.Text($"{stage}-thresholding"),
        args.WasGiven($"{stage}-eta") ? args.Double($"{stage}-eta", 0, 0, 1) : null,
        args.WasGiven($"{stage}-aug") ? args.Int($"{stage}-aug", 0, 0, SamplingOptions.MaxAugmentationLevel) : null,
        stage == "decoder64" && args.WasGiven("decoder64-layout") ? args.Double("decoder64-layout", 0, 0, 1) : null);

    /// The stages with sampling options on the command line.
    static readonly CascadeStage[] Sampled = CascadeStages.All.Where(s => s != CascadeStage.Text).ToArray();

    public static GenerationSpec Request(Arguments args, string prompt) => new()
    {
        Prompt = prompt,
        Size = args.Int("size", 64, 1, 1 << 16),
        Seed = (ulong)args.Int("seed", 0, 0, int.MaxValue),
        Sampling = Sampled.Aggregate(SamplingByStage.Default, (all, stage) => all.With(stage, Read(args, stage.Name()))),
        IgnoreUnknownWords = args.Flag("ignore-unknown-words"),
    };

    /// The same options as a cluster request, with its deadline.
    public static GenerationSpec Spec(Arguments args, string prompt) =>
        Request(args, prompt) with { DeadlineSeconds = args.Double("deadline-seconds", 600, 1, GenerationSpec.MaxDeadlineSeconds) };

    public const string Help = """
              per stage (prior, decoder64, sr256, sr1024; unset: the model folder's sampling.json): --<stage>-steps N --<stage>-guidance W
              --<stage>-thresholding none|static|dynamic[:p[:cap]] --<stage>-eta E --<stage>-aug LEVEL (SR input noise)
              --decoder64-layout SHARE (0-1: how much of the decoder's trajectory ILVR holds to the layout model's picture; 0 off)
        """;
}
