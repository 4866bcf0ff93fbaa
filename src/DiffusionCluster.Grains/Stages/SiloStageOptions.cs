using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Batching;
using DiffusionCluster.Models;

namespace DiffusionCluster.Grains.Stages;

/// What one silo hosts, bound from the "Silo" configuration section (environment: Silo__Stages=decoder64,sr256,
/// Silo__Device=cuda:0, Silo__Batching__sr1024__MaxBatchSize=2).
public sealed class SiloStageOptions
{
    public const string Section = "Silo";

    /// "all" or a comma-separated list of text, prior, decoder64, sr256, sr1024.
    public string Stages { get; set; } = "all";
    public string Device { get; set; } = "cpu";
    /// fp32, or fp16/bf16 on a CUDA device: the dtype the networks compute in.
    public string Precision { get; set; } = "fp32";
    public string ModelFolder { get; set; } = Models.Cascade.CascadeFolder.Bundled;
    /// Intra-op threads for this silo's tensor work; 0 keeps libtorch's default.
    public int Threads { get; set; }
    /// How long a request waits for a stage whose hosts are all gone (or not yet joined) before failing: room for
    /// Orleans to declare a killed silo dead and for its replacement to start and load its model.
    public double StageRecoverySeconds { get; set; } = 90;
    /// The longest a job may expect to wait in its silo's admission queue for its turn (AdmissionQueue): a job whose
    /// estimated start is further away is refused with 429 and a Retry-After instead. 0: jobs are never queued.
    public double QueueSeconds { get; set; } = 600;
    /// The share of its deadline a request may spend waiting for the work ahead of it (admission's test); the rest is
    /// for its own stages and for the estimate's error: lower it where stage times vary (shared or noisy machines).
    public double DeadlineWaitShare { get; set; } = 0.75;
    /// How long an ended request's record (state and image) is kept for status reads and downloads, then deleted.
    public double ResultRetentionMinutes { get; set; } = 60;
    /// How often an unfinished request's reminder fires: after its silo is lost, the longest wait (beyond the time
    /// Orleans takes to declare the silo dead) before another silo picks the request up and runs it again.
    public double RequestSweepSeconds { get; set; } = 60;
    /// A stage profile (`bench stages --out`): when set, the silo's stages compute nothing and take the profile's
    /// time for each batch (SimulatedExecutor), for trying capacity at a scale the machine could not compute. The
    /// model folder still gives the cascade's stages and sizes; its weights are not read.
    public string? SimulatedProfile { get; set; }
    /// How long one round of silo descriptions (what each silo hosts, its queues, its measured times) serves the
    /// routing and admission of every request on this silo before it is asked for again. 0: ask for every stage of
    /// every request (a call to every silo each time).
    public double RoutingRefreshMilliseconds { get; set; } = 250;
    /// The port of the silo's probes, /health/live and /health/ready (SiloHealthEndpoint); 0: none.
    public int HealthPort { get; set; }
    /// Load every hosted stage's model when the silo starts rather than on its first request.
    public bool WarmUp { get; set; } = true;
    /// Batching limits per stage name; a stage not listed uses Default.
    public Dictionary<string, BatchingOptions> Batching { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    public BatchingOptions DefaultBatching { get; set; } = new();

    public IReadOnlyList<CascadeStage> HostedStages() => CascadeStages.ParseList(Stages);

    public BatchingOptions BatchingFor(CascadeStage stage) => Batching.GetValueOrDefault(stage.Name()) ?? DefaultBatching;

    /// Fails at start-up, naming the value, rather than at the first request.
    public void Validate()
    {
        var stages = HostedStages();
        foreach (var name in Batching.Keys) CascadeStages.Parse(name);
        PrecisionOption.Parse(Precision);
        if (!(StageRecoverySeconds >= 0 && StageRecoverySeconds <= 3600))
            throw new ArgumentException($"Silo:StageRecoverySeconds = {StageRecoverySeconds}; allowed 0 to 3600");
        if (!(QueueSeconds >= 0 && QueueSeconds <= 3600))
            throw new ArgumentException($"Silo:QueueSeconds = {QueueSeconds}; allowed 0 to 3600");
        if (!(DeadlineWaitShare >= 0.05 && DeadlineWaitShare <= 0.95))
            throw new ArgumentException($"Silo:DeadlineWaitShare = {DeadlineWaitShare}; allowed 0.05 to 0.95");
        if (!(ResultRetentionMinutes >= 1 && ResultRetentionMinutes <= 7 * 24 * 60))
            throw new ArgumentException($"Silo:ResultRetentionMinutes = {ResultRetentionMinutes}; allowed 1 to {7 * 24 * 60} (a week)");
        if (!(RequestSweepSeconds >= 1 && RequestSweepSeconds <= 3600))
            throw new ArgumentException($"Silo:RequestSweepSeconds = {RequestSweepSeconds}; allowed 1 to 3600");
        if (!(RoutingRefreshMilliseconds >= 0 && RoutingRefreshMilliseconds <= 10_000))
            throw new ArgumentException($"Silo:RoutingRefreshMilliseconds = {RoutingRefreshMilliseconds}; allowed 0 to 10000");
        if (HealthPort < 0 || HealthPort > 65535) throw new ArgumentException($"Silo:HealthPort = {HealthPort}; allowed 0 (none) to 65535");
        if (Threads < 0 || Threads > 1024) throw new ArgumentException($"Silo:Threads = {Threads}; allowed 0 (libtorch default) to 1024");
        if (!Directory.Exists(ModelFolder))
            throw new ArgumentException($"Silo:ModelFolder \"{Path.GetFullPath(ModelFolder)}\" does not exist; point it at a cascade model folder (models/shapes-cascade)");
        CascadeDefinition cascade;
        try
        {
            cascade = Models.Cascade.CascadeFolder.Definition(ModelFolder);
        }
        catch (Models.Configs.ModelFormatException e)
        {
            throw new ArgumentException($"Silo:ModelFolder \"{ModelFolder}\" is not a cascade model folder: {e.Message}");
        }
        if (SimulatedProfile is not null && !File.Exists(SimulatedProfile))
            throw new ArgumentException($"Silo:SimulatedProfile \"{Path.GetFullPath(SimulatedProfile)}\" does not exist; write one with `bench stages --out FILE`");
        foreach (var stage in stages)
        {
            if (!cascade.Has(stage))
                throw new ArgumentException($"Silo:Stages names {stage.Name()}, which the cascade in \"{ModelFolder}\" does not run; it runs {string.Join(", ", cascade.Stages.Select(s => s.Stage.Name()))}");
            var component = cascade[stage].Component;
            if (SimulatedProfile is null && !File.Exists(Path.Combine(ModelFolder, component, "config.json")))
                throw new ArgumentException($"Silo:ModelFolder \"{ModelFolder}\" has no {component}/config.json, which stage {stage.Name()} needs");
            BatchingFor(stage).Validate(stage.Name());
        }
    }
}
