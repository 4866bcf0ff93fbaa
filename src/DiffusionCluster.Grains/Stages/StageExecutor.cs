using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Grains.Stages.Executors;
using DiffusionCluster.Models.Cascade;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages;

/// Runs one cascade stage for batches of requests on this silo's device: the stage's descriptor (from the model
/// folder) picks the executor of its kind, and on the first image stage a request's image operation picks the
/// edit or segmentation executor. Networks load once, on first use, and are shared by every request; other
/// stages' weights are never read.
public sealed class StageExecutor
{
    readonly IBatchExecutor _executor;
    readonly Lazy<EditExecutor>? _edit;
    readonly Lazy<SegmentExecutor>? _segment;

    public StageExecutor(CascadeStage stage, string modelFolder, Device device, ScalarType dtype = ScalarType.Float32)
    {
        var cascade = new CascadePipeline(modelFolder, device, dtype);
        Descriptor = cascade.Definition[stage];
        _executor = Descriptor.Kind switch
        {
            StageKind.Text => new TextExecutor(cascade),
            StageKind.Prior => new PriorExecutor(cascade),
            _ => new ImageExecutor(cascade, Descriptor),
        };
        // Image operations run where the image embedding is drawn: the cascade's first image stage.
        if (cascade.Definition.Stages.First(s => s.Kind == StageKind.Image) == Descriptor)
        {
            _edit = new(() => new EditExecutor(cascade, Descriptor, modelFolder));
            _segment = new(() => new SegmentExecutor(cascade, modelFolder));
        }
    }

    StageExecutor(StageDescriptor descriptor, IBatchExecutor executor)
    {
        Descriptor = descriptor;
        _executor = executor;
    }

    /// A stage that computes nothing and takes the profile's time (SimulatedExecutor); image operations are refused.
    public static StageExecutor Simulated(StageDescriptor descriptor, Capacity.StageTimings timings) => new(descriptor, new SimulatedExecutor(descriptor, timings));

    public StageDescriptor Descriptor { get; }
    public CascadeStage Stage => Descriptor.Stage;

    /// Loads the stage's network now (a silo warms its stages at start-up, so the first request does not pay for it).
    public void Load() => _executor.Load();

    /// The text stage's prompt vocabulary (null for a model without a composer).
    public PromptVocabulary? Vocabulary() => _executor is TextExecutor text
        ? text.Vocabulary()
        : _executor is SimulatedExecutor && Descriptor.Kind == StageKind.Text ? null
        : throw new InvalidOperationException($"stage {Stage.Name()} reads no prompts; ask a text worker");

    /// Checks one request against this stage before it joins a batch, so a bad request fails alone.
    public void Validate(StageInput input)
    {
        if (input.Stage != Stage) throw new ArgumentException($"input for stage {input.Stage.Name()} sent to stage {Stage.Name()}");
        For(input).Validate(input);
    }

    /// The denoising steps a request runs here: its own or the model folder's default; null where nothing is sampled.
    public int? Steps(StageInput input) => For(input).Steps(input);

    /// Requests batch together only when they sample the same way (same steps, guidance, thresholding, ...)
    /// and, for image operations, the same operation with the same settings; an operation without a batch key
    /// runs alone, so each request's result depends only on its own seed.
    public static string BatchKey(StageInput input)
    {
        var key = $"{input.Sampling}|text={input.Text is not null}";
        return input.Operation is null ? key : $"{key}|{input.Operation.BatchKey ?? $"{input.Operation.Name}:{input.RequestId}"}";
    }

    /// Runs one batch (requests with one batch key).
    public IReadOnlyList<BatchRowOutput> Run(IReadOnlyList<StageInput> batch, StepProgress progress, CancellationToken cancellation)
    {
        var executor = For(batch[0]);
        executor.Load();
        return executor.Run(batch, progress, cancellation);
    }

    IBatchExecutor For(StageInput input) => input.Operation switch
    {
        null => _executor,
        _ when _edit is null => throw new ArgumentException($"{Stage.Name()}: image operations run on the cascade's first image stage"),
        SegmentOperation => _segment!.Value,
        _ => _edit.Value,
    };
}

static class StageInputs
{
    public static SamplingOptions RequiredSampling(this StageInput input) =>
        input.Sampling ?? throw new ArgumentException($"{input.Stage.Name()}: the request carries no sampling options");
}
