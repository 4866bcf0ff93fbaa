using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Grains.Hosting;

namespace DiffusionCluster.Cli.Reliability;

/// The cluster of the README's multi-silo walk-through on this machine, every part a real process on loopback:
/// PostgreSQL (membership and request storage), two front silos (text and prior, each an Orleans gateway, so
/// request grains live on both), two decoder64 silos, one sr256 silo, and two gateway replicas as clients of it.
public sealed class LocalCluster : IDisposable
{
    readonly List<ChildProcess> _processes = [];

    LocalCluster(LocalPostgres database) => Database = database;

    public LocalPostgres Database { get; }
    public ChildProcess Front { get; private set; } = null!;
    public ChildProcess Base { get; private set; } = null!;
    public ChildProcess Sr256 { get; private set; } = null!;
    public ChildProcess Gateway { get; private set; } = null!;
    public IReadOnlyList<Uri> Gateways { get; private set; } = [];

    /// siloSettings: configuration every silo gets (as Silo__* environment variables).
    public static async Task<LocalCluster> Start(string modelFolder, IReadOnlyDictionary<string, string> siloSettings, TextWriter log)
    {
        var root = RepositoryRoot();
        var cluster = new LocalCluster(new LocalPostgres(root));
        try
        {
            await ClusterSchema.Apply(cluster.Database.ConnectionString);
            var cli = Path.Combine(AppContext.BaseDirectory, "diffusion-cluster.dll");
            ChildProcess Silo(string name, string stages, bool gateway)
            {
                string[] arguments = ["cluster", "silo", "--stages", stages, "--connection", cluster.Database.ConnectionString, "--model", modelFolder,
                    "--threads", "1", "--silo-port", CascadeConnection.FreePort().ToString(), "--gateway-port", gateway ? CascadeConnection.FreePort().ToString() : "0"];
                return cluster.Add(new ChildProcess(name, cli, arguments, siloSettings, "silo started"));
            }
            cluster.Front = Silo("front silo 1", "text,prior", gateway: true);
            var front2 = Silo("front silo 2", "text,prior", gateway: true);
            cluster.Base = Silo("decoder64 silo 1", "decoder64", gateway: false);
            var base2 = Silo("decoder64 silo 2", "decoder64", gateway: false);
            cluster.Sr256 = Silo("sr256 silo", "sr256", gateway: false);
            log.WriteLine("starting PostgreSQL, 5 silos and 2 gateways ...");
            await Task.WhenAll(cluster.Front.Start(), front2.Start(), cluster.Base.Start(), base2.Start(), cluster.Sr256.Start());

            var gatewayDll = GatewayDll(root);
            var gateways = new List<Uri>();
            ChildProcess Gateway(string name)
            {
                var url = new Uri($"http://127.0.0.1:{CascadeConnection.FreePort()}");
                gateways.Add(url);
                var environment = new Dictionary<string, string>
                {
                    ["Gateway__Cluster"] = cluster.Database.ConnectionString,
                    ["ASPNETCORE_URLS"] = url.ToString(),
                    ["Logging__LogLevel__Default"] = "Warning",
                    ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
                };
                return cluster.Add(new ChildProcess(name, gatewayDll, [], environment, "Now listening on"));
            }
            cluster.Gateway = Gateway("gateway 1");
            var gateway2 = Gateway("gateway 2");
            await Task.WhenAll(cluster.Gateway.Start(), gateway2.Start());
            cluster.Gateways = gateways;
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    ChildProcess Add(ChildProcess process)
    {
        _processes.Add(process);
        return process;
    }

    /// The last output of every process, for a failure's report.
    public string Output => string.Join("\n\n", _processes.Select(p => $"== {p.Name}\n{p.Output}"));

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "DiffusionCluster.sln"))) return directory.FullName;
        throw new DirectoryNotFoundException($"no repository above {AppContext.BaseDirectory}: run the CLI built in a checkout (dotnet build -c Release)");
    }

    /// The gateway built beside this CLI (the CLI project builds it: a build-order reference).
    static string GatewayDll(string root)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = Path.Combine(root, "src", "DiffusionCluster.Gateway", "bin", configuration, "net10.0", "diffusion-cluster-gateway.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is missing: build the solution (dotnet build -c {configuration})");
    }

    public void Dispose()
    {
        foreach (var process in _processes) process.Dispose();
        Database.Dispose();
    }
}
