using DiffusionCluster.Grains.Stages.Executors;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Grains.Batching;
using DiffusionCluster.Grains.Hosting;
using DiffusionCluster.Grains.Placement;
using DiffusionCluster.Grains.Requests;
using DiffusionCluster.ServiceDefaults;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace DiffusionCluster.Grains.Stages;

/// Runs one stage on the silo its key names, through that silo's shared batcher. Reentrant, so concurrent
/// requests reach the batcher together and can share a batch.
[SiloKeyPlacement, Reentrant]
public sealed class StageWorkerGrain(HostedStages stages, ILocalSiloDetails silo) : Grain, IStageWorkerGrain
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
        var result = await stages.Batcher(_stage).Enqueue(input, StageExecutor.BatchKey(input), StepReporter(input, cancellation),
            cancellation, waitForRoom: true);
        var tensor = result.Output.Tensor;
        var png = input.EncodePng && tensor is not null ? EncodePng(tensor, input.PngParameters) : null;
        if (png is not null) tensor = null;
        MessageLimits.Check($"the output of stage {_stage.Name()}", (tensor?.Bytes ?? 0) + (png?.Length ?? 0));
        var stageTag = new KeyValuePair<string, object?>(CascadeTelemetry.Tags.Stage, _stage.Name());
        CascadeTelemetry.QueueDuration.Record(result.QueueMilliseconds / 1000, stageTag);
        CascadeTelemetry.ComputeDuration.Record(result.ComputeMilliseconds / 1000, stageTag);
        CascadeTelemetry.BatchSize.Record(result.BatchSize, stageTag);
        var run = new StageRun(_stage, silo.SiloAddress.ToString(), stages.Device, result.BatchSize, result.QueueMilliseconds, result.ComputeMilliseconds,
            Model: $"{stages.Model}/{executor.Descriptor.Component}", Steps: executor.Steps(input) ?? 0);
        return new StageOutput(run, result.Output.Text, tensor, result.Output.Caption, png);
    }

    static byte[] EncodePng(WireTensor image, string? parameters)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        return Models.Imaging.Png.Encode(image.ToTensor(TorchSharp.torch.CPU), parameters);
    }

    /// Reports the steps a request's batch reaches to its request grain: at most every StepReportInterval, and always
    /// the last; with a preview of the step's estimate when the request asked for previews (the last step's too, but
    /// at the request's last stage, whose image is the result). Called on the batcher's thread; the report is
    /// one-way, so it never waits on the request grain.
    StepProgress StepReporter(StageInput input, CancellationToken cancellation)
    {
        var request = GrainFactory.GetGrain<IGenerationGrain>(input.RequestId);
        long reported = 0;
        return (step, total, estimate) =>
        {
            if (cancellation.IsCancellationRequested) return; // the request has let go; do not wake its grain
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (step < total && reported != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(reported, now) < StepReportInterval) return;
            reported = now;
            var preview = input.Previews && estimate is not null && (step < total || !input.EncodePng) ? Models.Imaging.Previews.Encode(estimate()) : null;
            _ = request.ReportStep(_stage, step, total, preview);
        };
    }

    static readonly TimeSpan StepReportInterval = TimeSpan.FromMilliseconds(250);

    public Task<PromptVocabulary?> GetVocabulary() => Task.FromResult(stages.Executor(_stage).Vocabulary());

    public Task CheckPrompt(string prompt, ulong seed, bool ignoreUnknownWords)
    {
        stages.Executor(_stage).Validate(new StageInput
        {
            RequestId = Guid.Empty, Stage = _stage, Prompt = prompt, Seed = seed, IgnoreUnknownWords = ignoreUnknownWords,
        });
        return Task.CompletedTask;
    }
}

/// Describes this silo's stages and their load, for the request grain's routing.
[SiloKeyPlacement]
public sealed class SiloStagesGrain(HostedStages stages, RequestStorageHealth storage, RequestBacklog backlog, ILocalSiloDetails silo) : Grain, ISiloStagesGrain
{
    public Task<SiloDescription> Describe() => Task.FromResult(new SiloDescription(
        silo.SiloAddress.ToParsableString(), stages.Device, stages.Load(), storage.Degraded, stages.SecondsPerRequest(), backlog.Ahead(), stages.QueueLimits(),
        stages.Model, stages.ModelCreated));
}
