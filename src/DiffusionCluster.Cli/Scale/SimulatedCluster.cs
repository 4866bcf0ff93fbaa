using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Cli.Reliability;
using DiffusionCluster.Grains.Batching;
using DiffusionCluster.Grains.Hosting;

namespace DiffusionCluster.Cli.Scale;

/// A cluster of simulated-compute silos (Silo:SimulatedProfile) on this machine: PostgreSQL (membership, request
/// storage, reminders), front silos hosting the text stage with an Orleans gateway each (the load generator's client
/// connects to them, so request grains live there), each its own process, and one silo per replica of every other
/// stage. Those replicas run up to silosPerProcess to a process (`cluster silo --count`), so that dozens fit on
/// two cores; each pool of two or more keeps one silo in a process of its own, which churn kills as a lost machine
/// goes. Silos can be added and killed while it runs (churn, autoscaling).
public sealed class SimulatedCluster : IDisposable
{
    /// Silos started at once: more only queue for the same two cores and can miss the start timeout.
    const int ParallelStarts = 6;
    /// Each process's PostgreSQL connections (Npgsql's Maximum Pool Size; its silos share them): two dozen processes
    /// stay within the local server's 500 (deploy/postgresql/start-local.sh) where Npgsql's default of 100 each
    /// ran it out of connections.
    const int PoolPerProcess = 16;

    readonly string _cli = Path.Combine(AppContext.BaseDirectory, "diffusion-cluster.dll");
    readonly string _model, _profile;
    readonly int _silosPerProcess;
    readonly Dictionary<string, string> _environment;
    /// Started processes, and those still starting (not yet churn's or a scale-down's to take).
    readonly List<Silo> _silos = [], _starting = [];
    readonly SemaphoreSlim _starts = new(ParallelStarts);
    int _named;

    /// A process holding Count silos that host Stage.
    public sealed record Silo(CascadeStage Stage, bool Front, int Count, ChildProcess Process);

    SimulatedCluster(LocalPostgres database, string model, string profile, int silosPerProcess, Dictionary<string, string> environment) =>
        (Database, _model, _profile, _silosPerProcess, _environment) = (database, model, profile, silosPerProcess, environment);

    public LocalPostgres Database { get; }

    /// The started silo processes.
    public IReadOnlyList<Silo> Silos { get { lock (_silos) return _silos.ToList(); } }

    /// Silos started or starting.
    public int SiloCount
    {
        get { lock (_silos) return _silos.Concat(_starting).Sum(s => s.Count); }
    }

    /// replicas: silos per stage beyond the text stage's fronts (at least `front` silos host text); batching: each
    /// stage's limits, as every silo gets them.
    public static async Task<SimulatedCluster> Start(string model, string profile, IReadOnlyDictionary<CascadeStage, int> replicas, int front,
        IReadOnlyDictionary<CascadeStage, BatchingOptions> batching, int silosPerProcess, TextWriter log)
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
        var cluster = new SimulatedCluster(new LocalPostgres(LocalCluster.RepositoryRoot()), model, profile, silosPerProcess, environment);
        try
        {
            await ClusterSchema.Apply(cluster.Database.ConnectionString);
            int fronts = Math.Max(front, replicas.GetValueOrDefault(CascadeStage.Text));
            int total = fronts + replicas.Where(r => r.Key != CascadeStage.Text).Sum(r => r.Value);
            log.WriteLine($"starting PostgreSQL and {total} simulated silos ({fronts} front silos hosting text, " +
                string.Join(", ", replicas.Where(r => r.Key != CascadeStage.Text).Select(r => $"{r.Value} {r.Key.Name()}")) + ") ...");
            // The fronts first: the other silos join through membership either way, but the client needs a gateway.
            await Task.WhenAll(Enumerable.Range(0, fronts).Select(_ => cluster.Add(CascadeStage.Text, front: true)));
            await Task.WhenAll(replicas.Where(r => r.Key != CascadeStage.Text).SelectMany(r => cluster.Pack(r.Value).Select(n => cluster.Add(r.Key, n))));
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// Silos per process for a pool of `silos`: one on its own (churn's victims) when there are two or more, the rest
    /// up to silosPerProcess to a process.
    public IEnumerable<int> Pack(int silos)
    {
        if (_silosPerProcess == 1 || silos < 2)
        {
            for (int i = 0; i < silos; i++) yield return 1;
            yield break;
        }
        yield return 1;
        for (int left = silos - 1; left > 0; left -= _silosPerProcess) yield return Math.Min(left, _silosPerProcess);
    }

    /// Starts a process with `count` more silos hosting the stage and waits until they are up.
    public async Task<Silo> Add(CascadeStage stage, int count = 1, bool front = false)
    {
        var name = count == 1 ? $"{stage.Name()} silo {Interlocked.Increment(ref _named)}" : $"{count} {stage.Name()} silos (process {Interlocked.Increment(ref _named)})";
        string[] arguments = ["cluster", "silo", "--stages", stage.Name(), "--connection", $"{Database.ConnectionString};Maximum Pool Size={PoolPerProcess}", "--model", _model,
            "--simulated-profile", _profile,
            .. count == 1
                ? ["--silo-port", CascadeConnection.FreePort().ToString(), "--gateway-port", front ? CascadeConnection.FreePort().ToString() : "0"]
                : new[] { "--count", count.ToString() }];
        var silo = new Silo(stage, front, count, new ChildProcess(name, _cli, arguments, _environment, "silo started"));
        lock (_silos) _starting.Add(silo);
        await _starts.WaitAsync();
        try
        {
            await silo.Process.Start();
        }
        finally
        {
            _starts.Release();
            lock (_silos)
            {
                _starting.Remove(silo);
                if (silo.Process.Running) _silos.Add(silo);
            }
        }
        return silo;
    }

    /// SIGKILL: the process's silos leave without a word, as a lost machine's do.
    public void Kill(Silo silo)
    {
        lock (_silos) _silos.Remove(silo);
        silo.Process.Dispose();
    }

    /// SIGTERM: the process's silos leave the cluster gracefully, as a scaled-down pod's do.
    public async Task Stop(Silo silo)
    {
        lock (_silos) _silos.Remove(silo);
        await silo.Process.Stop(TimeSpan.FromSeconds(60));
        silo.Process.Dispose();
    }

    public void Dispose()
    {
        List<Silo> all;
        lock (_silos) all = _silos.Concat(_starting).ToList();
        foreach (var silo in all) silo.Process.Dispose();
        Database.Dispose();
    }
}
