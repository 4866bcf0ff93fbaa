using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

public sealed record GenerationRequest
{
    public static readonly int[] Sizes = [64, 256, 1024];

    public required string Prompt { get; init; }
    public int Size { get; init; } = 64;
    public ulong Seed { get; init; }
    public StageSampling Prior { get; init; } = StageSampling.PriorDefault;
    public StageSampling Decoder { get; init; } = StageSampling.DecoderDefault;
    public StageSampling Sr256 { get; init; } = StageSampling.Sr256Default;
    public StageSampling Sr1024 { get; init; } = StageSampling.Sr1024Default;
    /// Draw the prompt without the words the model does not know (reported in the result) instead of refusing it.
    public bool IgnoreUnknownWords { get; init; }

    public void ValidateSize()
    {
        if (!Sizes.Contains(Size)) throw new ArgumentException($"size {Size} is not supported; choose {string.Join(", ", Sizes)}");
    }
}

public sealed record StageTiming(string Stage, double Milliseconds);

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
    public (Tensor Image, IReadOnlyList<StageTiming> Timings, ComposedPrompt Prompt) Generate(GenerationRequest request,
        Action<string, int, int>? progress = null, CancellationToken cancellation = default)
    {
        // Every check before any stage runs, so a bad option never costs the stages before it.
        request.ValidateSize();
        var prompt = Text.Compose(request.Prompt, request.Seed, request.IgnoreUnknownWords);
        request.Prior.Validate("prior", Prior.TrainTimesteps);
        request.Decoder.Validate("decoder", Decoder.TrainTimesteps);
        Decoder.RequireLayoutFor(request.Decoder);
        if (request.Size >= 256) request.Sr256.Validate("sr256", Sr256.TrainTimesteps);
        if (request.Size >= 1024) request.Sr1024.Validate("sr1024", Sr1024.TrainTimesteps);
        var timings = new List<StageTiming>();
        var seeds = new[] { request.Seed };
        var clock = Stopwatch.StartNew();
        T Timed<T>(string stage, Func<T> run)
        {
            clock.Restart();
            var result = run();
            timings.Add(new StageTiming(stage, clock.Elapsed.TotalMilliseconds));
            return result;
        }
        Action<int, int> Progress(string stage) => (done, total) => progress?.Invoke(stage, done, total);

        using var scope = NewDisposeScope();
        var text = Timed("text_encoder", () => Text.Encode([prompt.Caption]));
        var embedding = Timed("prior", () => Prior.Sample(text, seeds, request.Prior, Progress("prior"), cancellation));
        var image = Timed("decoder64", () => Decoder.Sample(text, embedding, null, seeds, request.Decoder, Progress("decoder64"), cancellation));
        if (request.Size >= 256)
            image = Timed("sr256", () => Sr256.Sample(text, null, image, seeds, request.Sr256, Progress("sr256"), cancellation));
        if (request.Size >= 1024)
            image = Timed("sr1024", () => Sr1024.Sample(text, null, image, seeds, request.Sr1024, Progress("sr1024"), cancellation));
        return (image.MoveToOuterDisposeScope(), timings, prompt);
    }
}
