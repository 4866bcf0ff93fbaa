using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Cli.Reliability;
using DiffusionCluster.Grains.Batching;
using DiffusionCluster.Grains.Hosting;

namespace DiffusionCluster.Cli.Scale;

/// A cluster of simulated-compute silos (Silo:SimulatedProfile) on this machine, every silo its own process:
/// PostgreSQL (membership, request storage, reminders), front silos hosting the text stage with an Orleans gateway
/// each (the load generator's client connects to them, so request grains live there), and one silo per replica
/// of every other stage. Silos can be added and killed while it runs (churn, autoscaling).
public sealed class SimulatedCluster : IDisposable
{
    /// Silos started at once: more only queue for the same two cores and can miss the start timeout.
    const int ParallelStarts = 6;

    readonly string _cli = Path.Combine(AppContext.BaseDirectory, "diffusion-cluster.dll");
    readonly string _model, _profile;
    readonly Dictionary<string, string> _environment;
    readonly List<Silo> _silos = [];
    readonly SemaphoreSlim _starts = new(ParallelStarts);
    int _named;

    public sealed record Silo(CascadeStage Stage, bool Front, ChildProcess Process);

    SimulatedCluster(LocalPostgres database, string model, string profile, Dictionary<string, string> environment) =>
        (Database, _model, _profile, _environment) = (database, model, profile, environment);

    public LocalPostgres Database { get; }

    public IReadOnlyList<Silo> Silos { get { lock (_silos) return _silos.ToList(); } }

    /// replicas: silos per stage beyond the text stage's fronts (at least `front` silos host text); batching: each
    /// stage's limits, as every silo gets them.
    public static async Task<SimulatedCluster> Start(string model, string profile, IReadOnlyDictionary<CascadeStage, int> replicas, int front,
        IReadOnlyDictionary<CascadeStage, BatchingOptions> batching, TextWriter log)
    {
        var environment = new Dictionary<string, string>
        {
            // Many silos share two cores: workstation GC keeps each process's heap and threads small.
            ["DOTNET_gcServer"] = "0",
            ["Silo__WarmUp"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        foreach (var (stage, options) in batching)
        {
            environment[$"Silo__Batching__{stage.Name()}__MaxBatchSize"] = options.MaxBatchSize.ToString();
            environment[$"Silo__Batching__{stage.Name()}__MaxQueueDelayMilliseconds"] = options.MaxQueueDelayMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            environment[$"Silo__Batching__{stage.Name()}__MaxQueueLength"] = options.MaxQueueLength.ToString();
        }
        var cluster = new SimulatedCluster(new LocalPostgres(LocalCluster.RepositoryRoot()), model, profile, environment);
        try
        {
            await ClusterSchema.Apply(cluster.Database.ConnectionString);
            int fronts = Math.Max(front, replicas.GetValueOrDefault(CascadeStage.Text));
            int total = fronts + replicas.Where(r => r.Key != CascadeStage.Text).Sum(r => r.Value);
            log.WriteLine($"starting PostgreSQL and {total} simulated silos ({fronts} front silos hosting text, " +
                string.Join(", ", replicas.Where(r => r.Key != CascadeStage.Text).Select(r => $"{r.Value} {r.Key.Name()}")) + ") ...");
            // The fronts first: the other silos join through membership either way, but the client needs a gateway.
            await Task.WhenAll(Enumerable.Range(0, fronts).Select(_ => cluster.Add(CascadeStage.Text, front: true)));
            await Task.WhenAll(replicas.Where(r => r.Key != CascadeStage.Text).SelectMany(r => Enumerable.Range(0, r.Value).Select(_ => cluster.Add(r.Key))));
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// Starts one more silo hosting the stage and waits until it is up.
    public async Task<Silo> Add(CascadeStage stage, bool front = false)
    {
        var name = $"{stage.Name()} silo {Interlocked.Increment(ref _named)}";
        string[] arguments = ["cluster", "silo", "--stages", stage.Name(), "--connection", Database.ConnectionString, "--model", _model,
            "--simulated-profile", _profile, "--silo-port", CascadeConnection.FreePort().ToString(),
            "--gateway-port", front ? CascadeConnection.FreePort().ToString() : "0"];
        var silo = new Silo(stage, front, new ChildProcess(name, _cli, arguments, _environment, "silo started"));
        lock (_silos) _silos.Add(silo);
        await _starts.WaitAsync();
        try
        {
            await silo.Process.Start();
        }
        finally
        {
            _starts.Release();
        }
        return silo;
    }

    /// SIGKILL: the silo leaves without a word, as a lost machine does.
    public void Kill(Silo silo)
    {
        lock (_silos) _silos.Remove(silo);
        silo.Process.Dispose();
    }

    public void Dispose()
    {
        foreach (var silo in Silos) silo.Process.Dispose();
        Database.Dispose();
    }
}
