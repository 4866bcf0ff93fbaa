using System.Diagnostics;
using DiffusionCluster.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

public sealed record GenerationRequest
{
    public static readonly int[] Sizes = [64, 256, 1024];

    public required string Prompt { get; init; }
    public int Size { get; init; } = 64;
    public ulong Seed { get; init; }
    /// Each stage's sampling options; unset fields take the model folder's defaults.
    public SamplingOptions Prior { get; init; } = SamplingOptions.Default;
    public SamplingOptions Decoder64 { get; init; } = SamplingOptions.Default;
    public SamplingOptions Sr256 { get; init; } = SamplingOptions.Default;
    public SamplingOptions Sr1024 { get; init; } = SamplingOptions.Default;
    /// Draw the prompt without the words the model does not know (reported in the result) instead of refusing it.
    public bool IgnoreUnknownWords { get; init; }

    public void ValidateSize()
    {
        if (!Sizes.Contains(Size)) throw new ArgumentException($"size {Size} is not supported; choose {string.Join(", ", Sizes)}");
    }
}

public sealed record StageDuration(string Stage, double Milliseconds);

/// The whole cascade in one process: text encoder -> prior -> 64px decoder -> SR 256 -> SR 1024, stopping at
/// the requested size. Stages load on first use, so a 64px request never reads the SR weights. dtype: what
/// the networks compute in (fp16/bf16 on GPUs); inputs and outputs of every stage stay float32.
public sealed class CascadePipeline(string modelFolder, Device device, ScalarType dtype = ScalarType.Float32)
{
    PromptEncoder? _text;
    PriorSampler? _prior;
    ImageSampler? _decoder, _sr256, _sr1024;

    public string ModelFolder { get; } = modelFolder;
    public Device Device { get; } = device;
    public ScalarType Dtype { get; } = dtype;

    public PromptEncoder Text => _text ??= new PromptEncoder(ModelFolder, Device, Dtype);
    public PriorSampler Prior => _prior ??= new PriorSampler(ModelFolder, Device, Dtype);
    public ImageSampler Decoder => _decoder ??= new ImageSampler(ModelFolder, CascadeFolder.Decoder64, Device, Dtype);
    public ImageSampler Sr256 => _sr256 ??= new ImageSampler(ModelFolder, CascadeFolder.Sr256, Device, Dtype);
    public ImageSampler Sr1024 => _sr1024 ??= new ImageSampler(ModelFolder, CascadeFolder.Sr1024, Device, Dtype);

    /// Returns the image [1, 3, size, size] in [-1, 1], the caption it was drawn from and the wall time of each stage.
    public (Tensor Image, IReadOnlyList<StageDuration> Timings, ComposedPrompt Prompt) Generate(GenerationRequest request,
        Action<string, int, int>? progress = null, CancellationToken cancellation = default)
    {
        // Every check before any stage runs, so a bad option never costs the stages before it.
        request.ValidateSize();
        var prompt = Text.Compose(request.Prompt, request.Seed, request.IgnoreUnknownWords);
        Prior.Validate(request.Prior);
        Decoder.Validate(request.Decoder64);
        if (request.Size >= 256) Sr256.Validate(request.Sr256);
        if (request.Size >= 1024) Sr1024.Validate(request.Sr1024);
        var timings = new List<StageDuration>();
        var seeds = new[] { request.Seed };
        var clock = Stopwatch.StartNew();
        T Timed<T>(string stage, Func<T> run)
        {
            clock.Restart();
            var result = run();
            timings.Add(new StageDuration(stage, clock.Elapsed.TotalMilliseconds));
            return result;
        }
        Action<int, int> Progress(string stage) => (done, total) => progress?.Invoke(stage, done, total);

        using var scope = NewDisposeScope();
        var text = Timed(CascadeStage.TextEncoder.Name(), () => Text.Encode([prompt.Caption]));
        var embedding = Timed(CascadeStage.Prior.Name(), () => Prior.Sample(text, seeds, request.Prior, Progress(CascadeStage.Prior.Name()), cancellation));
        var image = Timed(CascadeStage.Decoder64.Name(), () => Decoder.Sample(text, embedding, null, seeds, request.Decoder64, Progress(CascadeStage.Decoder64.Name()), cancellation));
        if (request.Size >= 256)
            image = Timed(CascadeStage.Sr256.Name(), () => Sr256.Sample(text, null, image, seeds, request.Sr256, Progress(CascadeStage.Sr256.Name()), cancellation));
        if (request.Size >= 1024)
            image = Timed(CascadeStage.Sr1024.Name(), () => Sr1024.Sample(text, null, image, seeds, request.Sr1024, Progress(CascadeStage.Sr1024.Name()), cancellation));
        return (image.MoveToOuterDisposeScope(), timings, prompt);
    }
}
