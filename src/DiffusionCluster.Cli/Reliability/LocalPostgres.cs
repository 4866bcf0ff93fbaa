using System.Diagnostics;
using DiffusionCluster.Cli.Infrastructure;

namespace DiffusionCluster.Cli.Reliability;

/// A throwaway PostgreSQL server in a fresh data folder on a free loopback port, started with the repository's
/// deploy/postgresql/start-local.sh (as a developer starts one), stopped at once for an outage, started again on
/// the same data, and deleted at the end.
public sealed class LocalPostgres : IDisposable
{
    readonly string _script;
    readonly string _data = Path.Combine(Path.GetTempPath(), $"dc-pg-{Guid.NewGuid():N}");
    readonly int _port = CascadeConnection.FreePort();

    public LocalPostgres(string repositoryRoot)
    {
        _script = Path.Combine(repositoryRoot, "deploy", "postgresql", "start-local.sh");
        if (!File.Exists(_script)) throw new FileNotFoundException($"{_script} is missing; run from a checkout of the repository");
        ConnectionString = Start();
    }

    public string ConnectionString { get; }

    /// Starts the server (again, after Stop) on the same data folder and port; returns its connection string.
    public string Start()
    {
        var (code, output) = Run(_script, $"{_data} {_port}");
        if (code != 0) throw new InvalidOperationException($"PostgreSQL did not start (exit {code}):\n{output}");
        return output.Trim().Split('\n')[^1];
    }

    /// Stops the server at once (an outage: open connections are cut), keeping its data.
    public void Stop()
    {
        var pgctl = Directory.GetDirectories("/usr/lib/postgresql").OrderBy(d => d).Last() + "/bin/pg_ctl";
        var asPostgres = Environment.UserName == "root";
        Run(asPostgres ? "runuser" : pgctl, (asPostgres ? $"-u postgres -- {pgctl} " : "") + $"-D {_data} -m immediate stop");
    }

    static (int Code, string Output) Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public void Dispose()
    {
        Stop();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
