using System.Diagnostics;

namespace DiffusionCluster.Grains.Tests.MultiProcess;

/// A real PostgreSQL server in a fresh data folder on a free port, started by deploy/postgresql/start-local.sh
/// (the same script a developer uses), stopped and deleted at the end.
public sealed class PostgresServer : IDisposable
{
    readonly string _data;

    readonly int _port = FreePorts.Next();

    public PostgresServer()
    {
        _data = Path.Combine(Path.GetTempPath(), $"dc-pg-{Guid.NewGuid():N}");
        ConnectionString = Start();
    }

    public string ConnectionString { get; }

    /// Starts the server (again, after Stop) on the same data folder and port; returns its connection string.
    public string Start()
    {
        var (code, output) = Run(Path.Combine(Repository.Root(), "deploy", "postgresql", "start-local.sh"), $"{_data} {_port}");
        if (code != 0) throw new InvalidOperationException($"PostgreSQL did not start (exit {code}):\n{output}");
        return output.Trim().Split('\n')[^1];
    }

    /// Stops the server at once (an outage: open connections are cut), keeping its data.
    public void Stop() => PgCtl($"-D {_data} -m immediate stop");

    void PgCtl(string arguments)
    {
        var pgctl = Directory.GetDirectories("/usr/lib/postgresql").OrderBy(d => d).Last() + "/bin/pg_ctl";
        var asPostgres = Environment.UserName == "root";
        Run(asPostgres ? "runuser" : pgctl, (asPostgres ? $"-u postgres -- {pgctl} " : "") + arguments);
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
