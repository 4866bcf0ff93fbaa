using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace DiffusionCluster.Grains.Placement;

/// Places a grain on the silo named in its key ("{anything}/{silo address}" or just "{silo address}").
/// This is how stage workers are pinned: the request grain picks a silo that declared the stage, and the
/// worker for that (stage, silo) pair can only ever activate there. A key naming a silo that is not active
/// fails placement, so the caller can move on to another silo.
/// The key alone decides the silo, so these grains stay out of the grain directory: a call never waits on
/// a directory partition held by some other silo, which matters when that silo has just died.
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class SiloKeyPlacement : PlacementStrategy
{
    public override bool IsUsingGrainDirectory => false;
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloKeyPlacementAttribute() : PlacementAttribute(new SiloKeyPlacement());

public sealed class SiloKeyPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString()!;
        var silo = SiloKeys.SiloOf(key);
        if (!context.GetCompatibleSilos(target).Contains(silo))
            throw new SiloUnavailableException($"grain {target.GrainIdentity} is pinned to silo {silo}, which is not an active member of the cluster");
        return Task.FromResult(silo);
    }
}

/// Grain keys that name a silo.
public static class SiloKeys
{
    public static string Of(SiloAddress silo) => silo.ToParsableString();

    public static SiloAddress SiloOf(string key)
    {
        var slash = key.IndexOf('/');
        var text = slash < 0 ? key : key[(slash + 1)..];
        try
        {
            return SiloAddress.FromParsableString(text);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException)
        {
            throw new ArgumentException($"grain key \"{key}\" does not end in a silo address", e);
        }
    }

    public static string PrefixOf(string key) => key.IndexOf('/') is var slash and >= 0 ? key[..slash] : "";
}
