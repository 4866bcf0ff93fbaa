using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages;

/// Runs one cascade stage for a batch of requests on this silo's device. The stage's model loads once, on
/// first use, and is shared by every request; other stages' weights are never read.
public sealed class StageExecutor
{
    readonly Lazy<TextStage> _text;
    readonly Lazy<PriorStage> _prior;
    readonly Lazy<ImageStage> _image;

    public StageExecutor(CascadeStage stage, string modelFolder, Device device)
    {
        Stage = stage;
        Device = device;
        _text = new(() => new TextStage(modelFolder, device));
        _prior = new(() => new PriorStage(modelFolder, device));
        _image = new(() => new ImageStage(modelFolder, Component(stage), device));
    }

    public CascadeStage Stage { get; }
    public Device Device { get; }

    /// The model folder component a stage reads.
    public static string Component(CascadeStage stage) => stage switch
    {
        CascadeStage.TextEncoder => CascadeFolder.TextEncoder,
        CascadeStage.Prior => CascadeFolder.Prior,
        CascadeStage.Base64 => CascadeFolder.Decoder64,
        CascadeStage.Sr256 => CascadeFolder.Sr256,
        CascadeStage.Sr1024 => CascadeFolder.Sr1024,
        _ => throw new ArgumentOutOfRangeException(nameof(stage)),
    };

    /// Loads the model now (a silo warms its stages at start-up, so the first request does not pay for it).
    public void Load()
    {
        _ = Stage switch
        {
            CascadeStage.TextEncoder => (object)_text.Value,
            CascadeStage.Prior => _prior.Value,
            _ => _image.Value,
        };
    }

    /// Checks one request against this stage before it joins a batch, so a bad request fails alone.
    public void Validate(StageInput input)
    {
        if (input.Stage != Stage) throw new ArgumentException($"input for stage {input.Stage.Name()} sent to stage {Stage.Name()}");
        if (Stage == CascadeStage.TextEncoder)
        {
            _text.Value.Validate(input.Prompt ?? "");
            return;
        }
        if (input.Text is null) throw new ArgumentException($"{Stage.Name()}: the request carries no text features");
        var sampling = Sampling(input);
        if (Stage == CascadeStage.Prior)
        {
            sampling.Validate(Stage.Name(), _prior.Value.TrainTimesteps);
            return;
        }
        sampling.Validate(Stage.Name(), _image.Value.TrainTimesteps);
        if (Stage == CascadeStage.Base64 && input.ImageEmbedding is null) throw new ArgumentException("base64: the request carries no image embedding");
        if (Stage is CascadeStage.Sr256 or CascadeStage.Sr1024 && input.LowRes is null)
            throw new ArgumentException($"{Stage.Name()}: the request carries no low-resolution image");
    }

    /// Requests batch together only when they sample the same way (same steps, guidance, thresholding, ...).
    public static string BatchKey(StageInput input) => input.Sampling?.ToString() ?? "";

    public IReadOnlyList<StageOutputPayload> Run(IReadOnlyList<StageInput> batch, Action<int, int> progress, CancellationToken cancellation)
    {
        // Load outside the dispose scope: weights made inside it would be freed when it ends.
        Load();
        using var scope = NewDisposeScope();
        if (Stage == CascadeStage.TextEncoder)
        {
            var text = _text.Value.Encode(batch.Select(b => b.Prompt!).ToList());
            return Enumerable.Range(0, batch.Count).Select(i => new StageOutputPayload(Text: WireTensors.TextRow(text, i))).ToList();
        }
        var features = WireTensors.StackText(batch.Select(b => b.Text!), Device);
        var seeds = batch.Select(b => b.Seed).ToList();
        var sampling = Sampling(batch[0]);
        Tensor result = Stage switch
        {
            CascadeStage.Prior => _prior.Value.Sample(features, seeds, sampling, progress, cancellation),
            CascadeStage.Base64 => _image.Value.Sample(features, WireTensors.Stack(batch.Select(b => b.ImageEmbedding!), Device), null, seeds, sampling, progress, cancellation),
            _ => _image.Value.Sample(features, null, WireTensors.Stack(batch.Select(b => b.LowRes!), Device), seeds, sampling, progress, cancellation),
        };
        return Enumerable.Range(0, batch.Count).Select(i => new StageOutputPayload(Tensor: WireTensors.FromRow(result, i))).ToList();
    }

    static StageSampling Sampling(StageInput input)
    {
        var s = input.Sampling ?? throw new ArgumentException($"{input.Stage.Name()}: the request carries no sampling options");
        return s.ToStageSampling();
    }
}

/// One request's share of a batch's output.
public sealed record StageOutputPayload(TextFeatures? Text = null, WireTensor? Tensor = null);
