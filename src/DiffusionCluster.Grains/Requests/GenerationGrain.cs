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
using Orleans.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionCluster.Grains.Requests;

/// One generation: walks the cascade's stages (text encoder -> prior -> decoder64 -> sr256 -> sr1024 for the
/// bundled cascade), stopping at the requested size, each stage on the least-loaded silo that hosts it. A stage whose
/// silo fails is retried on another silo hosting it. Reentrant so progress, cancellation and a resubmitted Start
/// reach it while it runs; placed on the silo whose gateway received the request.
///
/// The request's spec, owner, state and result are persistent (RequestStore), and an unfinished request holds a
/// reminder: if its silo is lost, the reminder (or the client's next call) activates it on a live silo, which
/// finds it unfinished and runs it again from its seed. Once ended, the record is kept for
/// Silo:ResultRetentionMinutes, then deleted; an idle activation is collected after two minutes.
[Reentrant, PreferLocalPlacement, CollectionAgeLimit(Minutes = 2)]
public sealed class GenerationGrain(StageRouter router, RequestBacklog backlog, RetrySlots retrySlots, AdmissionQueue admissionQueue, CascadeDefinition cascade,
    IOptions<SiloStageOptions> options, ILogger<GenerationGrain> logger) : Grain, IGenerationGrain, IRemindable
{
    /// Failures reported by a stage (not an unreachable silo) before the request fails.
    const int AttemptsPerStage = 4;
    /// The reminder an unfinished request holds (ticking every Silo:RequestSweepSeconds) and an ended one holds
    /// until its retention ends.
    const string ReminderName = "request";
    /// How long a stage keeps looking for a reachable host (Silo:StageRecoverySeconds), waiting 0.5, 1, 2, then 4 s
    /// between rounds: long enough for Orleans to declare a killed silo dead and for a replacement to join.
    readonly TimeSpan _recoveryWindow = TimeSpan.FromSeconds(options.Value.StageRecoverySeconds);
    readonly TimeSpan _retention = TimeSpan.FromMinutes(options.Value.ResultRetentionMinutes);
    readonly TimeSpan _sweep = TimeSpan.FromSeconds(options.Value.RequestSweepSeconds);
    readonly double _queueSeconds = options.Value.QueueSeconds;
    readonly double _waitShare = options.Value.DeadlineWaitShare;

    readonly StageRouter _router = router;
    readonly CancellationTokenSource _cancel = new();
    RequestStore _store = null!;
    Task<GenerationResult>? _work;
    GenerationProgress _progress = new(GenerationState.NotStarted);
    /// The admission of the Start in progress, if any (reentrant: a second Start can arrive meanwhile).
    Task? _admitting;
    /// Completed (and replaced) by each Publish, waking WatchProgress calls.
    TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// This request counted in the silo's backlog from admission on, so requests admitted while it is being recorded
    /// see it ahead of them.
    RequestBacklog.Tracker? _ahead;
    /// Set when Orleans takes this activation down while the request runs (its silo shutting down, a duplicate
    /// found by the directory): the run stops and its record stays unfinished, for the next activation to resume.
    bool _deactivated;

    RequestRecord Record => _store.Record;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _store = new RequestStore(ServiceProvider.GetRequiredKeyedService<IGrainStorage>(RequestStore.Name), this.GetGrainId(),
            ServiceProvider.GetRequiredService<RequestStorageHealth>(), logger);
        await _store.Load();
        Publish(Describe(Record));
        if (Record.Unfinished) await Resume();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_work is { IsCompleted: false })
        {
            logger.LogInformation("Request {Request}: activation deactivated while running ({Reason}); its record stays unfinished",
                this.GetPrimaryKey(), reason);
            _deactivated = true;
            _cancel.Cancel();
        }
        return Task.CompletedTask;
    }

    /// Runs again, here, a request whose record says unfinished while no activation works on it: the silo that ran
    /// it is gone (or this activation read no record because storage was down and a client's Start told it).
    async Task Resume()
    {
        logger.LogInformation("Resuming request {Request} (start {Start})", this.GetPrimaryKey(), Record.Starts + 1);
        CascadeTelemetry.RequestsResumed.Add(1);
        Record.Starts++;
        await _store.Save();
        Begin(Record.Spec!);
    }

    public Task<GenerationProgress> Start(GenerationSpec spec, string owner) => Open(spec, owner, mayQueue: false);

    public Task<GenerationProgress> Queue(GenerationSpec spec, string owner) => Open(spec, owner, mayQueue: true);

    /// Records the request and starts it: now, or (mayQueue) at its turn in the silo's AdmissionQueue.
    async Task<GenerationProgress> Open(GenerationSpec spec, string owner, bool mayQueue)
    {
        spec.Validate();
        var stages = spec.StagesIn(cascade); // a size this cascade does not make fails the call, not a started run
        // A Start sent again while the first is still in admission (a client's call timed out) waits for its answer:
        // admitted, it joins the request below; refused, it is weighed afresh.
        if (_admitting is { } admitting)
        {
            try { await admitting; } catch (StageOverloadedException) { }
        }
        if (Record.Spec is not null)
        {
            if (spec != Record.Spec || owner != Record.Owner)
                throw new ArgumentException($"request {this.GetPrimaryKey()} already exists with different options; use a new request id");
            if (_work is null && Record.Unfinished) await Resume();
            return _progress;
        }
        var admission = Admit(spec, owner, stages, mayQueue);
        _admitting = admission;
        DateTimeOffset? startAfter;
        try
        {
            startAfter = await admission;
        }
        finally
        {
            if (_admitting == admission) _admitting = null;
        }
        if (startAfter is null) _ahead = backlog.Track(stages.Select(s => s.Stage));
        Record.Spec = spec;
        Record.Owner = owner;
        Record.Created = DateTimeOffset.UtcNow;
        Record.StartAfter = startAfter;
        Record.State = GenerationState.NotStarted;
        Record.Starts = 1; // written before it begins, so a resumed run counts from here
        Publish(Describe(Record));
        try
        {
            await _store.Save();
        }
        catch
        {
            _ahead?.Dispose();
            _ahead = null;
            throw;
        }
        Begin(spec);
        _ = KeepReminder(_sweep);
        return _progress;
    }

    /// Admission: a request whose wait for the work ahead of it would eat too much of its deadline does not start
    /// now, to run out of time in the cluster. A job (mayQueue) then joins the silo's AdmissionQueue, as does any job
    /// while others wait there (first come, first served): the returned time is when it may expect to start (null:
    /// start now). A request that cannot queue, or a job whose estimated start is more than Silo:QueueSeconds away, is
    /// refused and told when to come back (RetrySlots: when the wait fits, plus a slot of margin so that the
    /// work ahead has drained below its limit by then, after the requests refused before it). An admitted request that
    /// meets a full stage queue waits for room (RunStage). Before a stage's first batch has measured its service time
    /// (a cold cluster's first burst), a request that cannot queue waits here, up to MeasurementWait, for the
    /// measurement rather than be weighed blind; a queued job starts once the measurement says it fits.
    async Task<DateTimeOffset?> Admit(GenerationSpec spec, string owner, IReadOnlyList<StageDescriptor> stages, bool mayQueue)
    {
        var affordable = spec.DeadlineSeconds * _waitShare;
        StageOverloadedException? Check(SiloDescription?[] round) => admissionQueue.Check(stages.Select(s => s.Stage), round, affordable);
        bool queueAhead = mayQueue && admissionQueue.Count > 0;
        // Admitted on the round in hand; refused only on a recent one (a stale round can still say "unmeasured" of a
        // stage that has measured itself since).
        if (!queueAhead && Check(await _router.DescribeAll()) is null) return null;
        var waiting = Stopwatch.StartNew();
        SiloDescription?[] recent;
        StageOverloadedException? saturated;
        while ((saturated = Check(recent = await _router.DescribeAll(recent: true))) is { Unmeasured: true } && !mayQueue && waiting.Elapsed < MeasurementWait)
            await Task.Delay(MeasurementPoll);
        var now = DateTimeOffset.UtcNow;
        if (mayQueue && (queueAhead || saturated is not null))
        {
            var estimate = admissionQueue.EstimateSeconds(owner, saturated?.RetryAfterSeconds ?? 0);
            if (estimate <= _queueSeconds) return now + TimeSpan.FromSeconds(estimate);
        }
        if (saturated is null) return null;
        // Every silo that runs requests admits on its own, so each spaces its refusals that many slots apart.
        int admitting = Math.Max(1, recent.Count(d => d?.Ahead is { Count: > 0 }));
        var slot = saturated.SlotSeconds * admitting;
        throw saturated.WithRetryAfter(retrySlots.Next(saturated.RetryAfterSeconds + slot, slot, now));
    }

    /// How long admission waits for an unmeasured stage's first batch to end, and how often it looks.
    static readonly TimeSpan MeasurementWait = TimeSpan.FromSeconds(15);
    static readonly TimeSpan MeasurementPoll = TimeSpan.FromMilliseconds(250);

    public async Task<GenerationResult> Generate(GenerationSpec spec, CancellationToken cancellation = default)
    {
        await Start(spec, Record.Spec is null ? "" : Record.Owner);
        using var leave = cancellation.Register(() => _cancel.Cancel());
        if (_work is null) return await Wait(TimeSpan.Zero) ?? throw Ended();
        return await _work;
    }

    public async Task<GenerationResult?> Wait(TimeSpan timeout)
    {
        if (_work is null)
        {
            if (Record.State == GenerationState.Completed) return Record.Result;
            if (Record.State is GenerationState.Failed or GenerationState.Cancelled) throw Ended();
            return null;
        }
        if (await Task.WhenAny(_work, Task.Delay(timeout)) != _work) return null;
        return await _work;
    }

    /// The failure of a request that ended in an earlier activation (its exception object is gone; its message is kept).
    Exception Ended() => Record.State == GenerationState.Cancelled
        ? new OperationCanceledException($"request {this.GetPrimaryKey()}: {Record.Error}")
        : new InvalidOperationException(Record.Error ?? $"request {this.GetPrimaryKey()} has not started");

    public Task<GenerationProgress> GetProgress() => Task.FromResult(_progress);

    public async Task<GenerationProgress> WatchProgress(long seenVersion, TimeSpan timeout)
    {
        if (_progress.Version == seenVersion && !_progress.Ended)
            await Task.WhenAny(_changed.Task, Task.Delay(timeout));
        return _progress;
    }

    public Task ReportStep(CascadeStage stage, int step, int totalSteps, byte[]? preview = null)
    {
        if (_progress.State == GenerationState.Running && _progress.Stage == stage && totalSteps > 0)
            Publish(_progress with { Step = step, TotalSteps = totalSteps, Preview = preview ?? _progress.Preview });
        return Task.CompletedTask;
    }

    /// Makes `progress` the request's progress, a new version of it, and wakes its watchers.
    void Publish(GenerationProgress progress)
    {
        _progress = progress with { Version = _progress.Version + 1 };
        var changed = _changed;
        _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    public Task Cancel()
    {
        _cancel.Cancel();
        return Task.CompletedTask;
    }

    /// An unfinished request's reminder finds it running (this activation resumed it) or lets it be; an ended one's
    /// deletes it once its retention has passed.
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (!_store.Synced) return; // storage could not be read: nothing is known to be expired
        if (Record.Spec is null || Record.Ended is { } ended && DateTimeOffset.UtcNow - ended >= _retention)
        {
            await _store.Clear();
            Publish(Describe(Record));
            await DropReminder();
            DeactivateOnIdle();
        }
    }

    void Begin(GenerationSpec spec)
    {
        // Not collected while it works, though nobody may be calling it (a job whose client reads it later); a queued
        // job's deadline counts from a start not known yet (estimated at most Silo:QueueSeconds away; allowed an hour).
        var from = Record.StartAfter is null ? Record.Created : DateTimeOffset.UtcNow + TimeSpan.FromSeconds(RetrySlots.MaxSeconds);
        DelayDeactivation(from + TimeSpan.FromSeconds(spec.DeadlineSeconds) - DateTimeOffset.UtcNow);
        var stages = spec.StagesIn(cascade);
        // Run owns the tracker from here (it ends with the run); a resumed request is counted now, a queued one (new or
        // resumed) when its turn comes.
        var tracked = _ahead ?? (Record.StartAfter is null ? backlog.Track(stages.Select(s => s.Stage)) : null);
        _ahead = null;
        _work = Run(spec, stages, tracked, _cancel.Token);
        _ = Finish(_work);
    }

    /// Records how the request ended (best effort: the caller already has the answer from _work), and trades the
    /// sweep reminder for the retention one.
    async Task Finish(Task<GenerationResult> work)
    {
        try { await work; } catch { /* recorded below from the progress Run left */ }
        if (_deactivated) return;
        Record.State = _progress.State;
        Record.Error = _progress.Error;
        Record.Result = work.IsCompletedSuccessfully ? work.Result : null;
        Record.Ended = DateTimeOffset.UtcNow;
        await _store.Save();
        await KeepReminder(_retention);
    }

    /// Sets the request's reminder. The reminder service can still be starting (a fresh cluster's first minute) or
    /// its table out of reach, so a failed attempt is tried again for a few minutes rather than leave an unfinished
    /// request without the guarantee that it is resumed.
    async Task KeepReminder(TimeSpan period)
    {
        const int attempts = 8;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await this.RegisterOrUpdateReminder(ReminderName, period, period);
                if (attempt > 1) logger.LogInformation("Request {Request}: its reminder was set at attempt {Attempt}", this.GetPrimaryKey(), attempt);
                return;
            }
            catch (Exception e) when (attempt < attempts)
            {
                logger.LogDebug(e, "Request {Request}: its reminder could not be set yet (attempt {Attempt})", this.GetPrimaryKey(), attempt);
                await Task.Delay(TimeSpan.FromSeconds(5 * attempt));
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Request {Request}: its reminder could not be set; it is not resumed if its silo is lost", this.GetPrimaryKey());
                return;
            }
        }
    }

    async Task DropReminder()
    {
        try
        {
            if (await this.GetReminder(ReminderName) is { } reminder) await this.UnregisterReminder(reminder);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Request {Request}: its reminder could not be removed", this.GetPrimaryKey());
        }
    }

    /// The progress a record gives before this activation has run anything.
    static GenerationProgress Describe(RequestRecord record) => record.Spec is null
        ? new GenerationProgress(GenerationState.NotStarted)
        : new GenerationProgress(record.State, Error: record.Error, Owner: record.Owner, Runs: record.Result?.Stages,
            Caption: record.Result?.Caption, Starts: record.Starts, StartAfter: record.StartAfter);

    async Task<GenerationResult> Run(GenerationSpec spec, IReadOnlyList<StageDescriptor> stages, RequestBacklog.Tracker? tracked, CancellationToken cancellation)
    {
        var requestId = this.GetPrimaryKey();
        if (tracked is null)
        {
            try
            {
                tracked = await admissionQueue.WaitTurn(Record.Owner, stages.Select(s => s.Stage).ToList(), spec.DeadlineSeconds * _waitShare, cancellation);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                Publish(_progress with { State = GenerationState.Cancelled, Error = "cancelled while queued for its turn" });
                throw new OperationCanceledException($"request {requestId}: cancelled while queued for its turn");
            }
            Record.StartAfter = DateTimeOffset.UtcNow;
            Publish(_progress with { StartAfter = Record.StartAfter });
            DelayDeactivation(TimeSpan.FromSeconds(spec.DeadlineSeconds));
        }
        var clock = Stopwatch.StartNew();
        // The deadline counts from when the request was admitted (made, or its queued turn came), not from a resumed
        // start.
        var left = Record.Admitted + TimeSpan.FromSeconds(spec.DeadlineSeconds) - DateTimeOffset.UtcNow;
        using var deadline = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellation);
        // The request's root span; a caller's trace context (W3C traceparent at the edge, carried by Orleans'
        // activity propagation) makes it part of the caller's trace.
        using var span = CascadeTelemetry.Source.StartActivity("generate");
        span?.SetTag(CascadeTelemetry.Tags.RequestId, requestId.ToString());
        span?.SetTag(CascadeTelemetry.Tags.Size, spec.Size);
        var runs = new List<StageRun>();
        using var ahead = tracked;
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
                Publish(new GenerationProgress(GenerationState.Running, stage.Stage, Stages: planned, Owner: Record.Owner, Starts: Record.Starts, Preview: _progress.Preview));
                if (stage.Kind == StageKind.Text && spec.Operation is TextDiffOperation diff)
                    walk.SourceText = await EncodeText(requestId, stage.Stage, diff.SourceCaption, spec, runs, linked.Token);
                var input = walk.Input(stage);
                var output = await RunStage(input, linked.Token);
                runs.Add(output.Run);
                ahead.Passed(stage.Stage);
                walk.Record(stage, output.Text, output.Tensor, output.Caption?.Caption);
                if (stage.Kind == StageKind.Text) caption = output.Caption;
                if (input.EncodePng) png = output.Png ?? throw new InvalidOperationException($"stage {stage.Stage.Name()} returned no image");
            }
            var result = new GenerationResult(requestId, spec.Size, png!, runs, clock.Elapsed.TotalMilliseconds, caption);
            Publish(_progress with { State = GenerationState.Completed, Runs = runs, Caption = caption, Preview = null });
            outcome = "completed";
            CascadeTelemetry.Images.Add(1, new KeyValuePair<string, object?>(CascadeTelemetry.Tags.Size, spec.Size));
            return result;
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            var why = deadline.IsCancellationRequested
                ? $"deadline of {spec.DeadlineSeconds} s passed during stage {current.Name()}"
                : $"cancelled during stage {current.Name()}";
            Publish(_progress with { State = GenerationState.Cancelled, Error = why, Preview = null });
            outcome = deadline.IsCancellationRequested ? "deadline" : "cancelled";
            var error = new OperationCanceledException($"request {requestId}: {why}");
            span.RecordError(error);
            throw error;
        }
        catch (Exception e)
        {
            Publish(_progress with { State = GenerationState.Failed, Error = e.Message, Preview = null });
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
    /// against the same source image and seed, so what neither caption names is the same in both.
    async Task<TextFeatures> EncodeText(Guid requestId, CascadeStage textStage, string caption, GenerationSpec spec, List<StageRun> runs, CancellationToken cancellation)
    {
        var output = await RunStage(new StageInput
        {
            RequestId = requestId, Stage = textStage, Prompt = caption, Seed = spec.Seed, IgnoreUnknownWords = spec.IgnoreUnknownWords,
            SourceImage = spec.SceneSource,
        }, cancellation);
        runs.Add(output.Run);
        return output.Text!;
    }

    /// Tries the least-loaded hosting silo; on a failure moves to the next. A host whose queue is full holds the
    /// request until it has room; one that refuses even that (its waiting list full too) sends the request to the
    /// others, and when every host refuses it waits and tries again (an admitted request runs out its deadline
    /// rather than fail on a busy moment), backing off from 0.25 s to 8 s with jitter so that waiting requests
    /// spread their retries. A silo that cannot be reached (killed, partitioned)
    /// does not use up the stage's attempts: until the cluster declares it dead, placement and directory
    /// lookups through it can fail even for live silos, so those failures are retried with a back-off for up
    /// to the recovery window. Failures the stage itself reports count towards AttemptsPerStage.
    async Task<StageOutput> RunStage(StageInput input, CancellationToken cancellation)
    {
        MessageLimits.Check($"the input of stage {input.Stage.Name()}", input.PayloadBytes);
        var excluded = new HashSet<string>();
        StageOverloadedException? overloaded = null;
        Exception? lastFailure = null;
        int attempt = 0, stageFailures = 0, waits = 0, roomWaits = 0;
        var clock = Stopwatch.StartNew();
        while (stageFailures < AttemptsPerStage)
        {
            var routing = Stopwatch.StartNew();
            var (candidates, _) = await _router.Candidates(input.Stage, excluded);
            var routeMs = routing.Elapsed.TotalMilliseconds;
            if (candidates.Count == 0)
            {
                if (overloaded is not null && lastFailure is null)
                {
                    var backoff = Math.Min(8, 0.25 * (1 << Math.Min(roomWaits++, 5))) * (0.5 + Random.Shared.NextDouble());
                    await Task.Delay(TimeSpan.FromSeconds(backoff), cancellation);
                    excluded.Clear();
                    overloaded = null;
                    continue;
                }
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
                _router.Sent(input.Stage, silo);
                var output = await worker.Run(input, cancellation);
                var run = output.Run with { Attempt = attempt, RouteMilliseconds = routeMs };
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
            catch (Exception e) when (e is OrleansMessageRejectionException || e is OperationCanceledException && !cancellation.IsCancellationRequested)
            {
                // A call cancelled by nobody here is one Orleans gave up on as its host went away: unreachable too.
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
