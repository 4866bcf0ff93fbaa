using System.Collections.Concurrent;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Jobs;

/// One submitted generation as the gateway sees it: its request id (the request grain's key), and once
/// done, the result or the error. Progress is read from the request grain itself.
public sealed class Job(Guid id, GenerationSpec spec, Task<GenerationResult> run, string owner)
{
    public Guid Id { get; } = id;
    /// The API key (as ApiKeyMiddleware.Owner digests it) that started the job; "" without keys.
    public string Owner { get; } = owner;
    public GenerationSpec Spec { get; } = spec;
    public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;
    public Task<GenerationResult> Run { get; } = run;
}

/// Jobs this gateway started, newest kept: a bounded map, oldest finished jobs dropped first.
public sealed class JobStore(IGrainFactory grains, Microsoft.Extensions.Options.IOptions<GatewayOptions> options)
{
    readonly ConcurrentDictionary<Guid, Job> _jobs = new();

    /// Starts a generation that runs on after the HTTP request that asked for it has ended.
    public Job Start(GenerationSpec spec, string owner)
    {
        var id = Guid.NewGuid();
        var job = new Job(id, spec, grains.Generate(spec, id), owner);
        _jobs[id] = job;
        Trim();
        return job;
    }

    /// Tracks a generation run by a synchronous request (so its `url` can be served).
    public Job Track(Guid id, GenerationSpec spec, Task<GenerationResult> run, string owner)
    {
        var job = new Job(id, spec, run, owner);
        _jobs[id] = job;
        Trim();
        return job;
    }

    /// The job, if the owner started it: another key's job reads as missing, so ids reveal nothing.
    public Job? Find(Guid id, string owner) => _jobs.GetValueOrDefault(id) is { } job && job.Owner == owner ? job : null;

    public IGenerationGrain Grain(Guid id) => grains.GetGrain<IGenerationGrain>(id);

    void Trim()
    {
        int excess = _jobs.Count - options.Value.MaxJobs;
        if (excess <= 0) return;
        foreach (var old in _jobs.Values.Where(j => j.Run.IsCompleted).OrderBy(j => j.Created).Take(excess))
            _jobs.TryRemove(old.Id, out _);
    }
}
