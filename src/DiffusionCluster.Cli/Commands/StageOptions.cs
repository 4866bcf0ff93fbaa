using System.CommandLine;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models.Cascade;

namespace DiffusionCluster.Cli.Commands;

/// Per-stage sampling options on the command line: --<stage>-steps, -guidance, -thresholding, -eta, -solver, -aug
/// (SR stages), and --decoder64-layout. Only the options given are set; the rest take the model folder's sampling.json.
public sealed class StageOptions
{
    sealed record ForStage(CascadeStage Stage, Option<int?> Steps, Option<double?> Guidance, Option<string?> Thresholding, Option<double?> Eta,
        Option<int?>? Augmentation, Option<string?> Solver, Option<double?>? Layout);

    /// The stages with sampling options on the command line.
    readonly List<ForStage> _stages = CascadeStages.All.Where(s => s != CascadeStage.Text).Select(stage =>
    {
        var name = stage.Name();
        // Unset, an option takes the model folder's sampling.json; help says so on each.
        const string Unset = " [default: the model's sampling.json]";
        return new ForStage(stage,
            CliOption.OptionalInt($"--{name}-steps", $"{name}: denoising steps{Unset}", 1, SamplingOptions.MaxSteps),
            CliOption.OptionalDouble($"--{name}-guidance", $"{name}: classifier-free guidance weight{Unset}", 0, SamplingOptions.MaxGuidance, "W"),
            CliOption.OptionalText($"--{name}-thresholding", $"{name}: thresholding: none, static, or dynamic[:p[:cap]]{Unset}", "KIND"),
            CliOption.OptionalDouble($"--{name}-eta", $"{name}: DDIM eta (0 deterministic, 1 DDPM-like){Unset}", 0, 1, "E"),
            stage is CascadeStage.Sr256 or CascadeStage.Sr1024
                ? CliOption.OptionalInt($"--{name}-aug", $"{name}: noise level of its low-resolution input{Unset}", 0, SamplingOptions.MaxAugmentationLevel, "LEVEL")
                : null,
            CliOption.OptionalText($"--{name}-solver", $"{name}: solver, {string.Join(" or ", SamplingOptions.Solvers)}{Unset}", "SOLVER"),
            stage == CascadeStage.Decoder64
                ? CliOption.OptionalDouble("--decoder64-layout", $"decoder64: share of its trajectory ILVR holds to the layout model's picture (0 off){Unset}", 0, 1, "SHARE")
                : null);
    }).ToList();

    public void AddTo(Command command)
    {
        foreach (var s in _stages)
            foreach (var option in new Option?[] { s.Steps, s.Guidance, s.Thresholding, s.Eta, s.Augmentation, s.Solver, s.Layout }.OfType<Option>())
                command.Options.Add(option);
    }

    public SamplingByStage Read(ParseResult line) => _stages.Aggregate(SamplingByStage.Default, (all, s) => all.With(s.Stage, new SamplingOptions(
        line.GetValue(s.Steps), line.GetValue(s.Guidance), line.GetValue(s.Thresholding), line.GetValue(s.Eta),
        s.Augmentation is null ? null : line.GetValue(s.Augmentation), s.Layout is null ? null : line.GetValue(s.Layout), line.GetValue(s.Solver))));
}

/// What a request asks for besides its prompt: size, seed, unknown words, per-stage sampling; with a deadline when
/// it runs on the cluster (generate, edit).
public sealed class RequestOptions
{
    readonly Option<string?> _size = CliOption.OptionalText("--size", "image side in pixels: 64, 256 or 1024 (\"256x256\" works too) [default: 64]", "PIXELS");
    readonly Option<int> _seed = CliOption.Int("--seed", "the noise's seed: the same seed and options give the same image", 0, 0, int.MaxValue);
    readonly Option<bool> _ignoreUnknownWords = CliOption.Flag("--ignore-unknown-words", "draw what the model knows of a prompt with words outside its vocabulary, and say which were ignored");
    readonly Option<double>? _deadline;
    readonly StageOptions _stages = new();

    public RequestOptions(bool deadline)
    {
        if (deadline) _deadline = CliOption.Double("--deadline-seconds", "how long the cluster may take before it gives the request up", 600, 1, GenerationSpec.MaxDeadlineSeconds, "S");
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_size);
        command.Options.Add(_seed);
        command.Options.Add(_ignoreUnknownWords);
        if (_deadline is not null) command.Options.Add(_deadline);
        _stages.AddTo(command);
    }

    public GenerationSpec Read(ParseResult line, string prompt)
    {
        var spec = new GenerationSpec
        {
            Prompt = prompt,
            Size = Size(line.GetValue(_size)),
            Seed = (ulong)line.GetValue(_seed),
            Sampling = _stages.Read(line),
            IgnoreUnknownWords = line.GetValue(_ignoreUnknownWords),
        };
        return _deadline is null ? spec : spec with { DeadlineSeconds = line.GetValue(_deadline) };
    }

    /// The image side: "256", or "256x256" as the HTTP API writes it (images are square; which sides the cascade
    /// makes is the spec's check).
    static int Size(string? text)
    {
        if (text is null) return 64;
        var sides = text.ToLowerInvariant().Split('x');
        if (sides.Length <= 2 && sides.All(side => int.TryParse(side, System.Globalization.NumberStyles.None, null, out _)) && sides.Distinct().Count() == 1)
            return int.TryParse(sides[0], out var size) ? size : int.MaxValue;
        throw new UsageException($"--size {text}: give the side in pixels: 64, 256 or 1024 (\"256x256\" works too; images are square)");
    }
}
