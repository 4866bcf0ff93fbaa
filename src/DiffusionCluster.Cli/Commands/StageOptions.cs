using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;

namespace DiffusionCluster.Cli.Commands;

/// Per-stage sampling options on the command line: --<stage>-steps, -guidance, -thresholding, -eta, -solver, -aug, -layout.
public static class StageOptions
{
    /// Only the options given are set; the rest stay unset and take the model folder's defaults.
    public static SamplingOptions Read(Arguments args, string stage) => new(
        args.WasGiven($"{stage}-steps") ? args.Int($"{stage}-steps", 0, 1, SamplingOptions.MaxSteps) : null,
        args.WasGiven($"{stage}-guidance") ? args.Double($"{stage}-guidance", 0, 0, SamplingOptions.MaxGuidance) : null,
        args.Text($"{stage}-thresholding"),
        args.WasGiven($"{stage}-eta") ? args.Double($"{stage}-eta", 0, 0, 1) : null,
        args.WasGiven($"{stage}-aug") ? args.Int($"{stage}-aug", 0, 0, SamplingOptions.MaxAugmentationLevel) : null,
        stage == "decoder64" && args.WasGiven("decoder64-layout") ? args.Double("decoder64-layout", 0, 0, 1) : null,
        args.Text($"{stage}-solver"));

    /// The stages with sampling options on the command line.
    static readonly CascadeStage[] Sampled = CascadeStages.All.Where(s => s != CascadeStage.Text).ToArray();

    public static GenerationSpec Request(Arguments args, string prompt) => new()
    {
        Prompt = prompt,
        Size = Size(args),
        Seed = (ulong)args.Int("seed", 0, 0, int.MaxValue),
        Sampling = Sampled.Aggregate(SamplingByStage.Default, (all, stage) => all.With(stage, Read(args, stage.Name()))),
        IgnoreUnknownWords = args.Flag("ignore-unknown-words"),
    };

    /// The image side: "256", or "256x256" as the HTTP API writes it (images are square; which sides the cascade
    /// makes is the spec's check).
    static int Size(Arguments args)
    {
        var text = args.Text("size");
        if (text is null) return 64;
        var sides = text.ToLowerInvariant().Split('x');
        if (sides.Length <= 2 && sides.All(side => int.TryParse(side, System.Globalization.NumberStyles.None, null, out _)) && sides.Distinct().Count() == 1)
            return int.TryParse(sides[0], out var size) ? size : int.MaxValue;
        throw new UsageException($"--size {text}: give the side in pixels: 64, 256 or 1024 (\"256x256\" works too; images are square)");
    }

    /// The same options as a cluster request, with its deadline.
    public static GenerationSpec Spec(Arguments args, string prompt) =>
        Request(args, prompt) with { DeadlineSeconds = args.Double("deadline-seconds", 600, 1, GenerationSpec.MaxDeadlineSeconds) };

    public const string Help = """
              per stage (prior, decoder64, sr256, sr1024; unset: the model folder's sampling.json): --<stage>-steps N --<stage>-guidance W
              --<stage>-thresholding none|static|dynamic[:p[:cap]] --<stage>-eta E --<stage>-solver ddim|dpm++2m
              --<stage>-aug LEVEL (SR input noise)
              --decoder64-layout SHARE (0-1: how much of the decoder's trajectory ILVR holds to the layout model's picture; 0 off)
        """;
}
