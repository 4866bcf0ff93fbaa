using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Hosting;
using DiffusionCluster.ServiceDefaults;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using DiffusionCluster.Grains.Stages;
using Orleans.Concurrency;
using Orleans.Placement;
using Orleans.Runtime;

namespace DiffusionCluster.Grains.Requests;

/// One generation: walks the cascade's stages (text encoder -> prior -> decoder64 -> sr256 -> sr1024 for the
/// bundled cascade), stopping at the requested size, each stage on the least-loaded silo that hosts it. A stage whose silo fails is retried on another
/// silo hosting it. Reentrant so progress, cancellation and a resubmitted Generate reach it while it runs;
/// placed on the silo whose gateway received the request, so losing a stage silo never loses the request.
/// An idle request (finished, nobody reading it) is collected after two minutes, so finished images do not
/// pile up in silo memory; the gateway keeps what it serves.
[Reentrant, PreferLocalPlacement, CollectionAgeLimit(Minutes = 2)]
public sealed class GenerationGrain(IGrainFactory grains, IClusterMembershipService membership, CascadeDefinition cascade,
    IOptions<SiloStageOptions> options, ILogger<GenerationGrain> logger) : Grain, IGenerationGrain
{
    /// Failures reported by a stage (not an unreachable silo) before the request fails.
    const int AttemptsPerStage = 4;
    /// How long a stage keeps looking for a reachable host (Silo:StageRecoverySeconds), waiting 0.5, 1, 2, then 4 s
    /// between rounds: long enough for Orleans to declare a killed silo dead and for a replacement to join.
    readonly TimeSpan _recoveryWindow = TimeSpan.FromSeconds(options.Value.StageRecoverySeconds);

    // Routing reads this silo's membership view, never the membership table: a database outage leaves requests running.
    readonly StageRouter _router = new(grains, () => membership.CurrentSnapshot.Members.Values
        .Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList());
    readonly CancellationTokenSource _cancel = new();
    Task<GenerationResult>? _work;
    GenerationSpec? _spec;
    GenerationProgress _progress = new(GenerationState.NotStarted);
    IStageWorkerGrain? _currentWorker;

    public Task<GenerationResult> Generate(GenerationSpec spec, CancellationToken cancellation = default)
    {
        spec.Validate();
        var stages = spec.StagesIn(cascade); // a size this cascade does not make fails the call, not a started run
        if (_work is not null)
        {
            if (spec != _spec) throw new ArgumentException($"request {this.GetPrimaryKey()} is already running with different options; use a new request id");
            return _work;
        }
        _spec = spec;
        _work = Run(spec, stages, cancellation);
        return _work;
    }

    /// While a stage runs, asks its worker for the step reached; cheap, and only when someone is looking.
    public async Task<GenerationProgress> GetProgress()
    {
        if (_progress.State == GenerationState.Running && _currentWorker is { } worker && _progress.Stage is { } stage)
        {
            try
            {
                var (step, total) = await worker.GetProgress(this.GetPrimaryKey()).WaitAsync(TimeSpan.FromSeconds(2));
                if (_progress.State == GenerationState.Running && _progress.Stage == stage && total > 0)
                    _progress = _progress with { Step = step, TotalSteps = total };
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A worker that cannot answer (its silo is failing) leaves the last known step.
            }
        }
        return _progress;
    }

    public Task Cancel()
    {
        _cancel.Cancel();
        return Task.CompletedTask;
    }

    async Task<GenerationResult> Run(GenerationSpec spec, IReadOnlyList<StageDescriptor> stages, CancellationToken callerCancellation)
    {
        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(spec.DeadlineSeconds));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _cancel.Token, callerCancellation);
        var requestId = this.GetPrimaryKey();
        // The request's root span; a caller's trace context (W3C traceparent at the edge, carried by Orleans'
        // activity propagation) makes it part of the caller's trace.
        using var span = CascadeTelemetry.Source.StartActivity("generate");
        span?.SetTag(CascadeTelemetry.Tags.RequestId, requestId.ToString());
        span?.SetTag(CascadeTelemetry.Tags.Size, spec.Size);
        var runs = new List<StageRun>();
        CascadeStage current = cascade.Stages[0].Stage;
        string outcome = "failed";
        try
        {
            ComposedCaption? caption = null;
            byte[]? png = null;
            var walk = new CascadeWalk(spec, requestId, stages);
            var planned = stages.Select(s => s.Stage).ToList();
            foreach (var stage in stages)
            {
                current = stage.Stage;
                _progress = new GenerationProgress(GenerationState.Running, stage.Stage, Stages: planned);
                if (stage.Kind == StageKind.Text && spec.Operation is TextDiffOperation diff)
                    walk.SourceText = await EncodeText(requestId, stage.Stage, diff.SourceCaption, spec, runs, linked.Token);
                var input = walk.Input(stage);
                var output = await RunStage(input, linked.Token);
                runs.Add(output.Run);
                walk.Record(stage, output.Text, output.Tensor);
                if (stage.Kind == StageKind.Text) caption = output.Caption;
                if (input.EncodePng) png = output.Png ?? throw new InvalidOperationException($"stage {stage.Stage.Name()} returned no image");
            }
            _progress = _progress with { State = GenerationState.Completed };
            outcome = "completed";
            CascadeTelemetry.Images.Add(1, new KeyValuePair<string, object?>(CascadeTelemetry.Tags.Size, spec.Size));
            return new GenerationResult(requestId, spec.Size, png!, runs, clock.Elapsed.TotalMilliseconds, caption);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            var why = deadline.IsCancellationRequested
                ? $"deadline of {spec.DeadlineSeconds} s passed during stage {current.Name()}"
                : $"cancelled during stage {current.Name()}";
            _progress = _progress with { State = GenerationState.Cancelled, Error = why };
            outcome = deadline.IsCancellationRequested ? "deadline" : "cancelled";
            var error = new OperationCanceledException($"request {requestId}: {why}");
            span.RecordError(error);
            throw error;
        }
        catch (Exception e)
        {
            _progress = _progress with { State = GenerationState.Failed, Error = e.Message };
            outcome = e is StageOverloadedException ? "overloaded" : e is ArgumentException ? "invalid" : "failed";
            span.RecordError(e);
            throw;
        }
        finally
        {
            span?.SetTag(CascadeTelemetry.Tags.Outcome, outcome);
            var tags = new TagList { { CascadeTelemetry.Tags.Outcome, outcome }, { CascadeTelemetry.Tags.Size, spec.Size } };
            CascadeTelemetry.Requests.Add(1, tags);
            CascadeTelemetry.RequestDuration.Record(clock.Elapsed.TotalSeconds, tags);
        }
    }

    /// A text diff's second caption (the source's), through the text encoder stage like the prompt and composed
    /// with the same seed, so what neither caption names is drawn the same in both.
    async Task<TextFeatures> EncodeText(Guid requestId, CascadeStage textStage, string caption, GenerationSpec spec, List<StageRun> runs, CancellationToken cancellation)
    {
        var output = await RunStage(new StageInput
        {
            RequestId = requestId, Stage = textStage, Prompt = caption, Seed = spec.Seed, IgnoreUnknownWords = spec.IgnoreUnknownWords,
        }, cancellation);
        runs.Add(output.Run);
        return output.Text!;
    }

    /// Tries the least-loaded hosting silo; on a failure moves to the next, on an overloaded queue tries the
    /// others before giving up with the overload error. A silo that cannot be reached (killed, partitioned)
    /// does not use up the stage's attempts: until the cluster declares it dead, placement and directory
    /// lookups through it can fail even for live silos, so those failures are retried with a back-off for up
    /// to the recovery window. Failures the stage itself reports count towards AttemptsPerStage.
    async Task<StageOutput> RunStage(StageInput input, CancellationToken cancellation)
    {
        MessageLimits.Check($"the input of stage {input.Stage.Name()}", input.PayloadBytes);
        var excluded = new HashSet<string>();
        StageOverloadedException? overloaded = null;
        Exception? lastFailure = null;
        int attempt = 0, stageFailures = 0, waits = 0;
        var clock = Stopwatch.StartNew();
        while (stageFailures < AttemptsPerStage)
        {
            var (candidates, _) = await _router.Candidates(input.Stage, excluded);
            if (candidates.Count == 0)
            {
                if (overloaded is not null && lastFailure is null) throw overloaded;
                // No host now (its silos died, or none has joined yet): wait for one within the recovery window.
                if (clock.Elapsed > _recoveryWindow) break;
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(4, 0.5 * (1 << Math.Min(waits++, 3)))), cancellation);
                excluded.Clear();
                continue;
            }
            attempt++;
            var silo = candidates[0].Silo;
            // One span per attempt, so a retry after a silo failure shows as its own span beside the failed one.
            using var span = CascadeTelemetry.Source.StartActivity($"stage {input.Stage.Name()}");
            span?.SetTag(CascadeTelemetry.Tags.Stage, input.Stage.Name());
            span?.SetTag(CascadeTelemetry.Tags.Attempt, attempt);
            span?.SetTag(CascadeTelemetry.Tags.Silo, SiloAddress.FromParsableString(silo).ToString());
            try
            {
                var worker = _router.Worker(input.Stage, silo);
                _currentWorker = worker;
                var output = await worker.Run(input, cancellation);
                var run = output.Run with { Attempt = attempt };
                if (span is not null) Describe(span, run);
                return output with { Run = run };
            }
            catch (StageOverloadedException e)
            {
                span.RecordError(e);
                span?.SetTag(CascadeTelemetry.Tags.Outcome, "overloaded");
                overloaded = e;
                excluded.Add(silo);
                attempt--;
            }
            catch (OrleansMessageRejectionException e)
            {
                span.RecordError(e);
                span?.SetTag(CascadeTelemetry.Tags.Outcome, "unreachable");
                logger.LogWarning(e, "Stage {Stage} could not reach silo {Silo} (attempt {Attempt}); trying another silo", input.Stage.Name(), silo, attempt);
                lastFailure = e;
                excluded.Add(silo);
                if (clock.Elapsed > _recoveryWindow) break;
            }
            catch (Exception e) when (e is not (ArgumentException or OperationCanceledException))
            {
                span.RecordError(e);
                span?.SetTag(CascadeTelemetry.Tags.Outcome, "failed");
                logger.LogWarning(e, "Stage {Stage} failed on silo {Silo} (attempt {Attempt}); trying another silo", input.Stage.Name(), silo, attempt);
                lastFailure = e;
                excluded.Add(silo);
                stageFailures++;
            }
            catch (Exception e)
            {
                span.RecordError(e);
                span?.SetTag(CascadeTelemetry.Tags.Outcome, e is OperationCanceledException ? "cancelled" : "invalid");
                throw;
            }
            cancellation.ThrowIfCancellationRequested();
        }
        if (overloaded is not null && lastFailure is null) throw overloaded;
        throw new InvalidOperationException(
            lastFailure is null
                ? $"no active silo hosts stage {input.Stage.Name()} (waited {_recoveryWindow.TotalSeconds:0} s, Silo:StageRecoverySeconds, for one to join); start a silo with that stage"
                : $"stage {input.Stage.Name()} failed after {attempt} attempts on its hosts: {lastFailure.Message}",
            lastFailure);
    }

    static void Describe(Activity span, StageRun run)
    {
        span.SetTag(CascadeTelemetry.Tags.Silo, run.Silo);
        span.SetTag(CascadeTelemetry.Tags.Device, run.Device);
        span.SetTag(CascadeTelemetry.Tags.BatchSize, run.BatchSize);
        span.SetTag(CascadeTelemetry.Tags.QueueMs, run.QueueMilliseconds);
        span.SetTag(CascadeTelemetry.Tags.ComputeMs, run.ComputeMilliseconds);
        span.SetTag(CascadeTelemetry.Tags.Model, run.Model);
        if (run.Steps > 0) span.SetTag(CascadeTelemetry.Tags.Steps, run.Steps);
        span.SetTag(CascadeTelemetry.Tags.Outcome, "completed");
    }
}
