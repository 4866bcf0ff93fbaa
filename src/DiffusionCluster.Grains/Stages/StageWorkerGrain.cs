using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Hosting;
using DiffusionCluster.Grains.Placement;
using DiffusionCluster.ServiceDefaults;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace DiffusionCluster.Grains.Stages;

/// Runs one stage on the silo its key names, through that silo's shared batcher. Reentrant, so concurrent
/// requests reach the batcher together and can share a batch.
[SiloKeyPlacement, Reentrant]
public sealed class StageWorkerGrain(HostedStages stages, ILocalSiloDetails silo, IGrainFactory grains) : Grain, IStageWorkerGrain
{
    CascadeStage _stage;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        _stage = CascadeStages.Parse(SiloKeys.PrefixOf(key));
        // Placement already put us on the named silo; refuse if that silo does not host the stage, so its
        // weights are never loaded here.
        if (!stages.Hosts(_stage))
            throw new InvalidOperationException($"silo {silo.SiloAddress} does not host stage {_stage.Name()}");
        return Task.CompletedTask;
    }

    public async Task<StageOutput> Run(StageInput input, CancellationToken cancellation = default)
    {
        if (input.Stage != _stage) throw new ArgumentException($"input for stage {input.Stage.Name()} sent to the {_stage.Name()} worker");
        var executor = stages.Executor(_stage);
        executor.Validate(input);
        var progress = new ProgressReporter(grains.GetGrain<IGenerationGrain>(input.RequestId), _stage);
        var result = await stages.Batcher(_stage).Enqueue(input, StageExecutor.BatchKey(input), progress.Report, cancellation);
        MessageLimits.Check($"the output of stage {_stage.Name()}", result.Output.Tensor?.Bytes ?? 0);
        var stageTag = new KeyValuePair<string, object?>(CascadeTelemetry.Tags.Stage, _stage.Name());
        CascadeTelemetry.QueueDuration.Record(result.QueueMilliseconds / 1000, stageTag);
        CascadeTelemetry.ComputeDuration.Record(result.ComputeMilliseconds / 1000, stageTag);
        CascadeTelemetry.BatchSize.Record(result.BatchSize, stageTag);
        var run = new StageRun(_stage, silo.SiloAddress.ToString(), stages.Device, result.BatchSize, result.QueueMilliseconds, result.ComputeMilliseconds,
            Model: $"{stages.Model}/{StageExecutor.Component(_stage)}");
        return new StageOutput(run, result.Output.Text, result.Output.Tensor);
    }
}

/// Forwards denoising progress to the request grain at most every 100 ms (and always the last step): a call
/// per step would cost a message, and with tracing on two spans, for every step of every request.
sealed class ProgressReporter(IGenerationGrain request, CascadeStage stage)
{
    static readonly long Interval = System.Diagnostics.Stopwatch.Frequency / 10;
    long? _last;

    public void Report(int step, int total)
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (step < total && now - _last < Interval) return;
        _last = now;
        request.ReportProgress(stage, step, total).Ignore();
    }
}

/// Describes this silo's stages and their load, for the request grain's routing.
[SiloKeyPlacement]
public sealed class SiloStagesGrain(HostedStages stages, ILocalSiloDetails silo) : Grain, ISiloStagesGrain
{
    public Task<SiloDescription> Describe() =>
        Task.FromResult(new SiloDescription(silo.SiloAddress.ToParsableString(), stages.Device, stages.Load()));
}
