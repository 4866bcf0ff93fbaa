using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Requests;

/// A request grain's persistent state: enough to answer for the request from any silo and to run it again
/// (from its seed, so the image is the same) on another silo if the one running it is lost.
[GenerateSerializer, Alias("DiffusionCluster.RequestRecord")]
public sealed class RequestRecord
{
    /// Null when this id holds no request (never started, or expired and deleted).
    [Id(0)] public GenerationSpec? Spec { get; set; }
    [Id(1)] public string Owner { get; set; } = "";
    [Id(2)] public GenerationState State { get; set; }
    [Id(3)] public string? Error { get; set; }
    [Id(4)] public GenerationResult? Result { get; set; }
    [Id(5)] public DateTimeOffset Created { get; set; }
    [Id(6)] public DateTimeOffset? Ended { get; set; }
    /// Times the request was started (more than one: resumed after losing its silo).
    [Id(7)] public int Starts { get; set; }
    /// A job admission queued: when it was estimated to start, then (in the running activation) when its turn came.
    /// A resumed queued job queues again.
    [Id(8)] public DateTimeOffset? StartAfter { get; set; }

    /// When the request's deadline starts counting: for a queued job its turn (or its estimate); else when it was made.
    public DateTimeOffset Admitted => StartAfter is { } turn && turn > Created ? turn : Created;

    public bool Unfinished => Spec is not null && State is GenerationState.NotStarted or GenerationState.Running;
}
