using System.Diagnostics;

namespace DiffusionCluster.Cli.Reliability;

/// One process of a local cluster (a silo or a gateway), run as `dotnet DLL ARGS`: started and waited for until it
/// prints its ready line, killed with SIGKILL (a machine lost, not a shutdown) or stopped with SIGTERM (a scale-down),
/// and started again with the same arguments. Its last lines of output are kept for error messages.
public sealed class ChildProcess(string name, string dll, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string readyLine)
    : IDisposable
{
    const int KeptLines = 200;
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);

    readonly Queue<string> _output = new();
    Process? _process;

    public string Name => name;

    public bool Running => _process is { HasExited: false };

    public string Output { get { lock (_output) return string.Join('\n', _output); } }

    /// Starts the process and waits for its ready line.
    public async Task Start()
    {
        if (Running) throw new InvalidOperationException($"{name} is already running");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start");
        void Collect(string? line)
        {
            if (line is null) return;
            lock (_output)
            {
                _output.Enqueue(line);
                if (_output.Count > KeptLines) _output.Dequeue();
            }
            if (line.Contains(readyLine, StringComparison.Ordinal)) ready.TrySetResult();
        }
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"{name} exited ({process.ExitCode}) before it was ready:\n{Output}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            await ready.Task.WaitAsync(StartTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{name} printed no \"{readyLine}\" within {StartTimeout.TotalSeconds:0} s:\n{Output}");
        }
    }

    /// SIGKILL: the process gets no chance to leave the cluster.
    public void Kill()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// SIGTERM: the process leaves the cluster the way a scaled-down pod does (the hosts stop gracefully), then exits.
    public async Task Stop(TimeSpan timeout)
    {
        if (_process is null || _process.HasExited) return;
        if (SendSignal(_process.Id, SigTerm) != 0) throw new InvalidOperationException($"could not send SIGTERM to {name} (pid {_process.Id})");
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Kill();
            throw new TimeoutException($"{name} did not exit within {timeout.TotalSeconds:0} s of SIGTERM; killed:\n{Output}");
        }
    }

    const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int SendSignal(int pid, int signal);

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
    }
}
