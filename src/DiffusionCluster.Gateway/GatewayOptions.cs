namespace DiffusionCluster.Gateway;

/// The "Gateway" configuration section.
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// Empty: co-host an embedded silo with every stage (the single-command default). Otherwise a cluster
    /// as `generate --cluster` takes it: localhost[:PORT] or a PostgreSQL connection string.
    public string Cluster { get; set; } = "";
    /// Bearer keys accepted on /v1; empty = no authentication.
    public List<string> ApiKeys { get; set; } = [];
    public long MaxJsonBytes { get; set; } = 64 * 1024;
    public long MaxUploadBytes { get; set; } = 20 * 1024 * 1024;
    public int MaxUploadSide { get; set; } = 4096;
    public long MaxUploadPixels { get; set; } = 4096L * 4096;
    /// How long a returned image `url` works without a bearer token. Keep it within the silos'
    /// Silo:ResultRetentionMinutes, after which the image itself is deleted.
    public double ImageUrlMinutes { get; set; } = 60;
    /// The key image links are signed with; every gateway replica needs the same one. Empty: derived from ApiKeys.
    public string UrlSigningKey { get; set; } = "";
    /// The shortest time between two events of a job's event stream (it sends only what changed, as the request grain
    /// publishes it). A stage shorter than this may show no step counts on the web page.
    public int ProgressIntervalMs { get; set; } = 200;

    public Apis.LimitOptions Limits { get; set; } = new();

    public void Validate()
    {
        Limits.Validate();
        if (ProgressIntervalMs is < 10 or > 10_000)
            throw new ArgumentException($"Gateway:ProgressIntervalMs = {ProgressIntervalMs}; allowed 10 to 10000");
        if (!(ImageUrlMinutes >= 1 && ImageUrlMinutes <= 7 * 24 * 60))
            throw new ArgumentException($"Gateway:ImageUrlMinutes = {ImageUrlMinutes}; allowed 1 to {7 * 24 * 60} (a week)");
    }
}
