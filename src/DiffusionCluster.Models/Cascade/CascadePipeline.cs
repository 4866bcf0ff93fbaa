using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

public sealed record StageDuration(string Stage, double Milliseconds);

/// The whole cascade in one process: walks the model folder's stages (model_index.json "_stages"; text encoder
/// -> prior -> 64px decoder -> SR 256 -> SR 1024 for the bundled cascade), stopping at the requested size.
/// Networks load on first use, so a 64px request never reads the SR weights. dtype: what the networks compute
/// in (fp16/bf16 on GPUs); inputs and outputs of every stage stay float32.
public sealed class CascadePipeline(string modelFolder, Device device, ScalarType dtype = ScalarType.Float32)
{
    readonly Lazy<CascadeDefinition> _definition = new(() => CascadeFolder.Definition(modelFolder));
    readonly Dictionary<string, ImageSampler> _images = new();
    PromptEncoder? _text;
    PriorSampler? _prior;

    public string ModelFolder { get; } = modelFolder;
    public Device Device { get; } = device;
    public ScalarType Dtype { get; } = dtype;

    /// The folder's stages in running order.
    public CascadeDefinition Definition => _definition.Value;

    public PromptEncoder Text => _text ??= new PromptEncoder(ModelFolder, Device, Dtype);
    public PriorSampler Prior => _prior ??= new PriorSampler(ModelFolder, Device, Dtype);

    /// The image sampler of one component (a decoder or super-resolution U-Net), loaded once.
    public ImageSampler Image(string component)
    {
        lock (_images)
        {
            if (!_images.TryGetValue(component, out var sampler)) _images[component] = sampler = new ImageSampler(ModelFolder, component, Device, Dtype);
            return sampler;
        }
    }

    /// The bundled cascade's image stages by name, for the evaluation and image operations written for them.
    public ImageSampler Decoder => Image(CascadeFolder.Decoder64);
    public ImageSampler Sr256 => Image(CascadeFolder.Sr256);
    public ImageSampler Sr1024 => Image(CascadeFolder.Sr1024);

    /// 64 px pictures [B, 3, 64, 64] in [-1, 1] of composed captions, one seed each, drawn in one batch through the
    /// text encoder, prior and decoder: the cascade's own base pictures, as evaluation and training draw them.
    public Tensor SampleBases(IReadOnlyList<string> captions, IReadOnlyList<ulong> seeds, SamplingOptions prior, SamplingOptions decoder,
        CancellationToken cancellation = default, DecodeOptions? decode = null)
    {
        using var scope = NewDisposeScope();
        using var text = Text.Encode(captions);
        var embedding = Prior.Sample(text, seeds, prior, cancellation: cancellation);
        return Decoder.Sample(text, embedding, null, seeds, decoder, cancellation: cancellation, decode: decode).MoveToOuterDisposeScope();
    }

    /// Returns the image [1, 3, size, size] in [-1, 1], the caption it was drawn from and the wall time of each stage.
    /// Image operations run through ImageOperations, not here.
    public (Tensor Image, IReadOnlyList<StageDuration> Timings, ComposedPrompt Prompt) Generate(GenerationSpec request,
        Action<string, int, int>? progress = null, CancellationToken cancellation = default)
    {
        if (request.Operation is not null) throw new ArgumentException("the pipeline draws prompts; image operations run through ImageOperations");
        // Every check before any stage runs, so a bad option never costs the stages before it.
        var stages = Definition.For(request.Size);
        var prompt = Text.Compose(request.Prompt, request.Seed, request.IgnoreUnknownWords);
        foreach (var stage in stages)
        {
            if (stage.Kind == StageKind.Prior) Prior.Validate(request.SamplingFor(stage.Stage));
            if (stage.Kind == StageKind.Image) Image(stage.Component).Validate(request.SamplingFor(stage.Stage));
        }
        var timings = new List<StageDuration>();
        var seeds = new[] { request.Seed };
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        TextEncoding? text = null;
        Tensor? embedding = null, image = null;
        foreach (var stage in stages)
        {
            clock.Restart();
            var name = stage.Stage.Name();
            StepProgress Progress() => (done, total, _) => progress?.Invoke(name, done, total);
            var sampling = stage.Kind == StageKind.Text ? null : request.SamplingFor(stage.Stage);
            switch (stage.Kind)
            {
                case StageKind.Text:
                    text = Text.Encode([prompt.Caption]);
                    break;
                case StageKind.Prior:
                    embedding = Prior.Sample(text!, seeds, sampling!, Progress(), cancellation);
                    break;
                case StageKind.Image:
                    // The first image stage draws from the prior's embedding; each later one refines the image before it.
                    image = image is null
                        ? Image(stage.Component).Sample(text, embedding, null, seeds, sampling!, Progress(), cancellation)
                        : Image(stage.Component).Sample(text, null, image, seeds, sampling!, Progress(), cancellation);
                    break;
            }
            timings.Add(new StageDuration(name, clock.Elapsed.TotalMilliseconds));
        }
        return (image!.MoveToOuterDisposeScope(), timings, prompt);
    }
}
