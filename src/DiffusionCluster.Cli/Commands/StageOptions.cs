using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Stages;
using DiffusionCluster.Models.Cascade;

namespace DiffusionCluster.Cli.Commands;

/// Per-stage sampling options on the command line: --<stage>-steps, -guidance, -thresholding, -eta, -aug, -layout.
public static class StageOptions
{
    public static StageSampling Read(Arguments args, string stage, StageSampling defaults) => new(
        args.Int($"{stage}-steps", defaults.Steps, 1, StageSampling.MaxSteps),
        args.Double($"{stage}-guidance", defaults.Guidance, 0, StageSampling.MaxGuidance),
        args.Text($"{stage}-thresholding", defaults.Thresholding),
        args.Double($"{stage}-eta", defaults.Eta, 0, 1),
        args.Int($"{stage}-aug", defaults.AugmentationLevel, 0, 999),
        stage == "decoder" && args.Text("decoder-layout") is not null ? args.Double("decoder-layout", 0, 0, 1) : defaults.Layout);

    public static GenerationRequest Request(Arguments args, string prompt) => new()
    {
        Prompt = prompt,
        Size = args.Int("size", 64, 1, 1 << 16),
        Seed = (ulong)args.Int("seed", 0, 0, int.MaxValue),
        Prior = Read(args, "prior", StageSampling.PriorDefault),
        Decoder = Read(args, "decoder", StageSampling.DecoderDefault),
        Sr256 = Read(args, "sr256", StageSampling.Sr256Default),
        Sr1024 = Read(args, "sr1024", StageSampling.Sr1024Default),
        IgnoreUnknownWords = args.Flag("ignore-unknown-words"),
    };

    /// The same options as a cluster request.
    public static GenerationSpec Spec(Arguments args, string prompt)
    {
        var request = Request(args, prompt);
        return new GenerationSpec
        {
            Prompt = request.Prompt,
            Size = request.Size,
            Seed = request.Seed,
            Prior = SamplingSpecs.From(request.Prior),
            Decoder = SamplingSpecs.From(request.Decoder),
            Sr256 = SamplingSpecs.From(request.Sr256),
            Sr1024 = SamplingSpecs.From(request.Sr1024),
            DeadlineSeconds = args.Double("deadline-seconds", 600, 1, GenerationSpec.MaxDeadlineSeconds),
            IgnoreUnknownWords = request.IgnoreUnknownWords,
        };
    }

    public const string Help = """
              per stage (prior, decoder, sr256, sr1024): --<stage>-steps N --<stage>-guidance W
              --<stage>-thresholding none|static|dynamic[:p[:cap]] --<stage>-eta E --<stage>-aug LEVEL (SR input noise)
              --decoder-layout SHARE (0-1: how much of the decoder's trajectory ILVR holds to the layout model's picture; 0 off)
        """;
}
