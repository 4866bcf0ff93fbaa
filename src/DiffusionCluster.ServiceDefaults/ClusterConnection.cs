namespace DiffusionCluster.ServiceDefaults;

/// How silos find each other and clients find silos, bound from the "Cluster" configuration section.
/// Membership "localhost" is the single-machine default (the embedded generate and tests); "postgres" is
/// ADO.NET clustering on PostgreSQL, with the schema from deploy/postgresql (applied by `cluster schema`).
public sealed class ClusterConnection
{
    public const string Section = "Cluster";
    public const string Localhost = "localhost";
    public const string Postgres = "postgres";
    /// Orleans' own default; silos and clients set it explicitly so both sides agree, and stage payloads are
    /// checked against it before sending (a message over it would otherwise surface only as a timeout).
    public const int MaxMessageBytes = 100 * 1024 * 1024;

    public string Membership { get; set; } = Localhost;
    public string? ConnectionString { get; set; }
    public string ClusterId { get; set; } = "diffusion-cluster";
    public string ServiceId { get; set; } = "diffusion-cluster";
    public int SiloPort { get; set; } = 11111;
    /// The port clients connect to; 0 = no gateway (a stage-only silo: request grains live on gateway silos).
    public int GatewayPort { get; set; } = 30000;
    /// For localhost membership: the primary silo's port (the first silo started). 0 = this silo is primary.
    public int PrimarySiloPort { get; set; }
    /// The address other silos reach this one at (a pod IP in Kubernetes); empty = loopback for localhost,
    /// the first non-loopback address otherwise.
    public string? AdvertisedAddress { get; set; }

    public bool IsPostgres => Membership.Equals(Postgres, StringComparison.OrdinalIgnoreCase);

    public void Validate()
    {
        if (!IsPostgres && !Membership.Equals(Localhost, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"Cluster:Membership = \"{Membership}\"; allowed {Localhost} or {Postgres}");
        if (IsPostgres && string.IsNullOrWhiteSpace(ConnectionString))
            throw new ArgumentException("Cluster:Membership is postgres but Cluster:ConnectionString is empty; give a PostgreSQL connection string");
        if (SiloPort < 1 || SiloPort > 65535) throw new ArgumentException($"Cluster:SiloPort = {SiloPort}; allowed 1 to 65535");
        if (GatewayPort < 0 || GatewayPort > 65535) throw new ArgumentException($"Cluster:GatewayPort = {GatewayPort}; allowed 0 (no gateway) to 65535");
        if (PrimarySiloPort < 0 || PrimarySiloPort > 65535) throw new ArgumentException($"Cluster:PrimarySiloPort = {PrimarySiloPort}; allowed 0 to 65535");
    }

    /// "localhost", "localhost:30001" (a gateway port) or a PostgreSQL connection string, as `--cluster` takes it.
    public static ClusterConnection ForClient(string text)
    {
        var value = text.Trim();
        if (value.StartsWith(Localhost, StringComparison.OrdinalIgnoreCase))
        {
            var port = 30000;
            if (value.Length > Localhost.Length && (value[Localhost.Length] != ':' || !int.TryParse(value[(Localhost.Length + 1)..], out port)))
                throw new ArgumentException($"cluster \"{text}\" is not localhost, localhost:PORT or a PostgreSQL connection string");
            return new ClusterConnection { Membership = Localhost, GatewayPort = port };
        }
        if (!value.Contains('='))
            throw new ArgumentException($"cluster \"{text}\" is not localhost, localhost:PORT or a PostgreSQL connection string (Host=...;Database=...)");
        return new ClusterConnection { Membership = Postgres, ConnectionString = value };
    }
}
