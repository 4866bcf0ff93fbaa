using DiffusionCluster.Grains.Stages.Executors;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Batching;
using System.Diagnostics.Metrics;
using DiffusionCluster.Models;
using DiffusionCluster.ServiceDefaults;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages;

/// The stages this silo hosts: one executor (the loaded model) and one batcher each, shared by every
/// request that reaches this silo. A silo singleton.
public sealed class HostedStages : IDisposable
{
    readonly Dictionary<CascadeStage, (StageExecutor Executor, StageBatcher<StageInput, BatchRowOutput> Batcher)> _stages = new();

    public HostedStages(IOptions<SiloStageOptions> options)
    {
        var o = options.Value;
        o.Validate();
        Func<CascadeStage, StageExecutor> executorOf;
        if (o.SimulatedProfile is { } file)
        {
            var profile = Capacity.StageProfile.Read(file);
            var cascade = Models.Cascade.CascadeFolder.Definition(o.ModelFolder);
            Device = $"simulated {profile.Device}";
            executorOf = stage => StageExecutor.Simulated(cascade[stage], profile.Stages.FirstOrDefault(s => s.Stage == stage.Name())
                ?? throw new ArgumentException($"Silo:SimulatedProfile \"{file}\" has no timings for stage {stage.Name()}"));
        }
        else
        {
            if (o.Threads > 0) set_num_threads(o.Threads);
            // A silo configured for CUDA that cannot initialise it, or for half precision on a CPU, refuses to start.
            var device = DeviceOption.Parse(o.Device);
            var dtype = PrecisionOption.Parse(o.Precision, device);
            Device = dtype == ScalarType.Float32 ? o.Device : $"{o.Device}/{PrecisionOption.Name(dtype)}";
            executorOf = stage => new StageExecutor(stage, o.ModelFolder, device, dtype);
        }
        foreach (var stage in o.HostedStages())
        {
            var executor = executorOf(stage);
            var batcher = new StageBatcher<StageInput, BatchRowOutput>(stage.Name(), o.BatchingFor(stage), executor.Run);
            _stages[stage] = (executor, batcher);
            _queueLimits[stage] = o.BatchingFor(stage).MaxQueueLength;
        }
        WarmUp = o.WarmUp;
        Model = $"{Path.GetFileName(Path.GetFullPath(o.ModelFolder).TrimEnd(Path.DirectorySeparatorChar))}";
        var index = Path.Combine(o.ModelFolder, "model_index.json");
        ModelCreated = File.Exists(index) ? new DateTimeOffset(File.GetLastWriteTimeUtc(index)).ToUnixTimeSeconds() : 0;
        _queueDepth = CascadeTelemetry.RegisterQueueDepth(() => _stages.Select(s =>
            new Measurement<int>(s.Value.Batcher.Load, new KeyValuePair<string, object?>(CascadeTelemetry.Tags.Stage, s.Key.Name()))));
    }

    readonly IDisposable _queueDepth;
    readonly Dictionary<CascadeStage, int> _queueLimits = new();

    /// The model folder's name, as spans and stage runs report it ("shapes-cascade").
    public string Model { get; }
    /// When the model folder's model_index.json was written (Unix seconds; 0 without one).
    public long ModelCreated { get; }

    public string Device { get; }

    public bool WarmUp { get; }
    public IReadOnlyCollection<CascadeStage> Stages => _stages.Keys;
    public bool Hosts(CascadeStage stage) => _stages.ContainsKey(stage);

    public StageExecutor Executor(CascadeStage stage) => Get(stage).Executor;
    public StageBatcher<StageInput, BatchRowOutput> Batcher(CascadeStage stage) => Get(stage).Batcher;

    public IReadOnlyDictionary<CascadeStage, int> Load() => _stages.ToDictionary(s => s.Key, s => s.Value.Batcher.Load);

    /// Each stage's measured compute seconds per request, for the stages that have run something.
    public IReadOnlyDictionary<CascadeStage, double> SecondsPerRequest() => _stages
        .Select(s => (s.Key, Seconds: s.Value.Batcher.SecondsPerRequest)).Where(s => s.Seconds is not null).ToDictionary(s => s.Key, s => s.Seconds!.Value);

    /// Each stage's queue limit (MaxQueueLength): what admission lets wait at a stage before its time is measured.
    public IReadOnlyDictionary<CascadeStage, int> QueueLimits() => _queueLimits;

    public void LoadModels()
    {
        foreach (var (executor, _) in _stages.Values) executor.Load();
        _loaded = true;
    }

    volatile bool _loaded;

    /// Every hosted stage's model is loaded (or loads on first use: WarmUp off).
    public bool Loaded => _loaded || !WarmUp;

    (StageExecutor Executor, StageBatcher<StageInput, BatchRowOutput> Batcher) Get(CascadeStage stage) =>
        _stages.TryGetValue(stage, out var s)
            ? s
            : throw new InvalidOperationException($"this silo does not host stage {stage.Name()}; it hosts {string.Join(", ", _stages.Keys.Select(k => k.Name()))}");

    public void Dispose()
    {
        _queueDepth.Dispose();
        foreach (var (_, batcher) in _stages.Values) batcher.Dispose();
    }
}
