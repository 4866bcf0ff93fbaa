using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Placement;
using DiffusionCluster.Grains.Stages;
using DiffusionCluster.Models.Imaging;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Placement;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Requests;

/// One generation: runs text encoder -> prior -> base64 -> sr256 -> sr1024 (stopping at the requested
/// size), each stage on the least-loaded silo that hosts it. A stage whose silo fails is retried on another
/// silo hosting it. Reentrant so progress, cancellation and a resubmitted Generate reach it while it runs;
/// placed on the silo whose gateway received the request, so losing a stage silo never loses the request.
[Reentrant, PreferLocalPlacement]
public sealed class GenerationGrain(IGrainFactory grains, ILogger<GenerationGrain> logger) : Grain, IGenerationGrain
{
    const int AttemptsPerStage = 3;

    readonly StageRouter _router = new(grains);
    readonly CancellationTokenSource _cancel = new();
    Task<GenerationResult>? _work;
    GenerationSpec? _spec;
    GenerationProgress _progress = new(GenerationState.NotStarted);

    public Task<GenerationResult> Generate(GenerationSpec spec, CancellationToken cancellation = default)
    {
        spec.Validate();
        if (_work is not null)
        {
            if (spec != _spec) throw new ArgumentException($"request {this.GetPrimaryKey()} is already running with different options; use a new request id");
            return _work;
        }
        _spec = spec;
        _work = Run(spec, cancellation);
        return _work;
    }

    public Task<GenerationProgress> GetProgress() => Task.FromResult(_progress);

    public Task Cancel()
    {
        _cancel.Cancel();
        return Task.CompletedTask;
    }

    public Task ReportProgress(CascadeStage stage, int step, int totalSteps)
    {
        if (_progress.State == GenerationState.Running && _progress.Stage == stage) _progress = _progress with { Step = step, TotalSteps = totalSteps };
        return Task.CompletedTask;
    }

    async Task<GenerationResult> Run(GenerationSpec spec, CancellationToken callerCancellation)
    {
        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(spec.DeadlineSeconds));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _cancel.Token, callerCancellation);
        var runs = new List<StageRun>();
        var requestId = this.GetPrimaryKey();
        CascadeStage current = CascadeStage.TextEncoder;
        try
        {
            TextFeatures? text = null;
            WireTensor? embedding = null, image = null;
            foreach (var stage in CascadeStages.For(spec.Size))
            {
                current = stage;
                _progress = new GenerationProgress(GenerationState.Running, stage);
                var input = new StageInput
                {
                    RequestId = requestId,
                    Stage = stage,
                    Prompt = stage == CascadeStage.TextEncoder ? spec.Prompt : null,
                    Text = text,
                    ImageEmbedding = stage == CascadeStage.Base64 ? embedding : null,
                    LowRes = stage is CascadeStage.Sr256 or CascadeStage.Sr1024 ? image : null,
                    Seed = spec.Seed,
                    Sampling = stage == CascadeStage.TextEncoder ? null : spec.SamplingFor(stage),
                };
                var output = await RunStage(input, linked.Token);
                runs.Add(output.Run);
                if (stage == CascadeStage.TextEncoder) text = output.Text;
                else if (stage == CascadeStage.Prior) embedding = output.Tensor;
                else image = output.Tensor;
            }
            var png = EncodePng(image!);
            _progress = _progress with { State = GenerationState.Completed };
            return new GenerationResult(requestId, spec.Size, png, runs, clock.Elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            var why = deadline.IsCancellationRequested
                ? $"deadline of {spec.DeadlineSeconds} s passed during stage {current.Name()}"
                : $"cancelled during stage {current.Name()}";
            _progress = _progress with { State = GenerationState.Cancelled, Error = why };
            throw new OperationCanceledException($"request {requestId}: {why}");
        }
        catch (Exception e)
        {
            _progress = _progress with { State = GenerationState.Failed, Error = e.Message };
            throw;
        }
    }

    /// Tries the least-loaded hosting silo; on a silo failure moves to the next, on an overloaded queue
    /// tries the others before giving up with the overload error.
    async Task<StageOutput> RunStage(StageInput input, CancellationToken cancellation)
    {
        var excluded = new HashSet<string>();
        StageOverloadedException? overloaded = null;
        Exception? lastFailure = null;
        for (int attempt = 1; attempt <= AttemptsPerStage; attempt++)
        {
            var candidates = await _router.Candidates(input.Stage, excluded);
            if (candidates.Count == 0) break;
            var silo = candidates[0].Silo;
            try
            {
                var worker = grains.GetGrain<IStageWorkerGrain>($"{input.Stage.Name()}/{silo}");
                var output = await worker.Run(input, cancellation);
                return output with { Run = output.Run with { Attempt = attempt } };
            }
            catch (StageOverloadedException e)
            {
                overloaded = e;
                excluded.Add(silo);
                attempt--;
            }
            catch (Exception e) when (e is not (ArgumentException or OperationCanceledException))
            {
                logger.LogWarning(e, "Stage {Stage} failed on silo {Silo} (attempt {Attempt}); trying another silo", input.Stage.Name(), silo, attempt);
                lastFailure = e;
                excluded.Add(silo);
            }
            cancellation.ThrowIfCancellationRequested();
        }
        if (overloaded is not null && lastFailure is null) throw overloaded;
        throw new InvalidOperationException(
            lastFailure is null
                ? $"no active silo hosts stage {input.Stage.Name()}; start a silo with that stage"
                : $"stage {input.Stage.Name()} failed on every silo tried ({excluded.Count}): {lastFailure.Message}",
            lastFailure);
    }

    static byte[] EncodePng(WireTensor image)
    {
        using var scope = NewDisposeScope();
        return Png.Encode(image.ToTensor(CPU));
    }
}
