using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Gateway.Jobs;

/// The gateway's view of jobs. A job is a request grain whose record (spec, owner, state, image) the cluster stores,
/// so any gateway replica answers for any job and a gateway restart loses none. Every call is bounded: a silo lost
/// mid-call costs the client a 503 to retry, never a hung connection.
public sealed class JobClient(IGrainFactory grains)
{
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);
    const int StartAttempts = 3;

    public IGenerationGrain Grain(Guid id) => grains.GetGrain<IGenerationGrain>(id);

    /// Records a job that runs on after the HTTP request that asked for it has ended, starting now or, when the cluster
    /// is saturated, at the turn its admission books (IGenerationGrain.Queue; refused only beyond an hour). A call that times out
    /// (a busy or restarting silo) is sent again with the same id, which Start treats as the same job, rather than
    /// answered 503: the client's own retry would make a new id and so a second job.
    public async Task<GenerationProgress> Start(Guid id, GenerationSpec spec, string owner)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await Grain(id).Queue(spec, owner).WaitAsync(CallTimeout);
            }
            catch (TimeoutException) when (attempt < StartAttempts)
            {
            }
        }
    }

    /// Starts a request a client waits on (a streamed generation): now, or refused with StageOverloadedException when the
    /// saturated cluster cannot start it now, as a synchronous request is; never queued for later.
    public Task<GenerationProgress> StartNow(Guid id, GenerationSpec spec, string owner) => Grain(id).Start(spec, owner).WaitAsync(CallTimeout);

    /// The job's progress, if it exists and the owner started it: another key's job reads as missing, so ids reveal nothing.
    public async Task<GenerationProgress?> Find(Guid id, string owner)
    {
        var progress = await Grain(id).GetProgress().WaitAsync(CallTimeout);
        return progress.Exists && progress.Owner == owner ? progress : null;
    }

    /// A completed job's result (with its PNG).
    public async Task<GenerationResult?> Result(Guid id) => await Grain(id).Wait(TimeSpan.Zero).WaitAsync(CallTimeout);

    /// The job's progress once it differs from the version seen, or after `timeout` (null as for Find).
    public async Task<GenerationProgress?> Watch(Guid id, string owner, long seenVersion, TimeSpan timeout)
    {
        var progress = await Grain(id).WatchProgress(seenVersion, timeout).WaitAsync(timeout + CallTimeout);
        return progress.Exists && progress.Owner == owner ? progress : null;
    }

    public Task Cancel(Guid id) => Grain(id).Cancel().WaitAsync(CallTimeout);

    /// How long one Watch call waits for a change before Follow asks again.
    static readonly TimeSpan WatchTimeout = TimeSpan.FromSeconds(15);

    /// The job's progress as it changes, starting from `job` (as Find read it) and ending with the progress that ends
    /// it, or when the cancellation fires. At most one per interval; between changes it waits on the request grain
    /// (WatchProgress), so a job waiting in a queue costs one call per WatchTimeout. A silo lost mid-watch pauses it
    /// (the job resumes on another silo) rather than ending it.
    public async IAsyncEnumerable<GenerationProgress> Follow(Guid id, string owner, GenerationProgress job, TimeSpan interval,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        while (true)
        {
            yield return job;
            if (job.Ended) yield break;
            await Task.Delay(interval, cancellation);
            try
            {
                job = await Watch(id, owner, job.Version, WatchTimeout) ?? job;
            }
            catch (Exception e) when (CascadeRequests.IsSiloLoss(e))
            {
                await Task.Delay(interval, cancellation);
            }
        }
    }
}
