using System.Globalization;

namespace DiffusionCluster.Gateway.Apis;

/// The Retry-After a 429 answers: the estimated wait in whole seconds plus up to a quarter more (at least 0 or 1 s),
/// so that clients refused in the same moment do not all come back in the same second and meet the same refusal.
public static class RetryAfter
{
    public static string Spread(double seconds)
    {
        var wait = (int)Math.Ceiling(Math.Clamp(seconds, 1, 3600));
        return (wait + Random.Shared.Next(0, wait / 4 + 2)).ToString(CultureInfo.InvariantCulture);
    }
}
