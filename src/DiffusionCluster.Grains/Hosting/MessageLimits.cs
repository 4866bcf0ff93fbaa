using DiffusionCluster.ServiceDefaults;
namespace DiffusionCluster.Grains.Hosting;

/// Orleans does not fail a message over MaxMessageBodySize: the caller just times out. Stage payloads are
/// checked against the limit before they are sent, so an over-size request fails at once with a reason.
public static class MessageLimits
{
    /// Room left for the message's headers and the rest of the request record.
    const long Headroom = 1024 * 1024;

    public static void Check(string what, long bytes)
    {
        long limit = ClusterConnection.MaxMessageBytes - Headroom;
        if (bytes > limit)
            throw new ArgumentException(
                $"{what} is {bytes / 1048576.0:F1} MiB; a cluster message carries at most {limit / 1048576.0:F0} MiB; use a smaller image size or model");
    }
}
