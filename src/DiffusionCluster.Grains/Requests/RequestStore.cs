using DiffusionCluster.ServiceDefaults;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Storage;

namespace DiffusionCluster.Grains.Requests;

/// Reads and writes one request grain's RequestRecord in the cluster's request storage (PostgreSQL in a
/// cluster, memory in one process). Storage is kept off the request's critical path: a failed write is logged
/// and counted and the request runs on from memory (it is written again at its next change), so a database
/// outage costs durability for its length, not requests.
public sealed class RequestStore(IGrainStorage storage, GrainId grain, RequestStorageHealth health, ILogger logger)
{
    /// The grain storage provider's name (ClusterHosting.UseRequestStorage registers it).
    public const string Name = "requests";
    const string StateName = "request";

    readonly GrainState<RequestRecord> _state = new(new RequestRecord());

    public RequestRecord Record => _state.State ??= new RequestRecord();

    /// False when the last read or write failed: what storage holds may be behind what this activation knows.
    public bool Synced { get; private set; } = true;

    /// Loads the record; on a storage failure starts from an empty one (a new request still runs).
    public async Task Load()
    {
        try
        {
            await storage.ReadStateAsync(StateName, grain, _state);
            _state.State ??= new RequestRecord();
            Synced = true;
            health.Succeeded();
        }
        catch (Exception e)
        {
            Failed("read", e);
        }
    }

    public async Task Save()
    {
        try
        {
            await storage.WriteStateAsync(StateName, grain, _state);
            Synced = true;
            health.Succeeded();
        }
        catch (InconsistentStateException e)
        {
            // Another activation of this request wrote since this one read (a silo thought dead came back): its
            // copy wins; this one re-reads so the next write builds on it.
            Failed("write (version conflict)", e);
            await Load();
        }
        catch (Exception e)
        {
            Failed("write", e);
        }
    }

    /// Deletes the record (an expired request).
    public async Task Clear()
    {
        try
        {
            await storage.ClearStateAsync(StateName, grain, _state);
        }
        catch (Exception e)
        {
            Failed("delete", e);
        }
        _state.State = new RequestRecord();
    }

    void Failed(string operation, Exception e)
    {
        Synced = false;
        if (e is not InconsistentStateException) health.Failed();
        CascadeTelemetry.StorageFailures.Add(1, new KeyValuePair<string, object?>(CascadeTelemetry.Tags.Operation, operation));
        logger.LogWarning(e, "Request storage {Operation} failed for {Grain}; the request goes on from memory", operation, grain);
    }
}
