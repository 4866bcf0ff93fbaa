using System.Diagnostics;
using System.Text;

namespace DiffusionCluster.Grains.Tests.MultiProcess;

/// One `diffusion-cluster cluster silo` process. Its output is kept for the failure message.
public sealed class SiloProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();
    readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SiloProcess(string stages, string connectionString, int siloPort, int gatewayPort, string modelFolder, IDictionary<string, string>? settings = null)
    {
        Stages = stages;
        SiloPort = siloPort;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Repository.Cli(), "cluster", "silo", "--stages", stages, "--connection", connectionString,
                     "--silo-port", siloPort.ToString(), "--gateway-port", gatewayPort.ToString(), "--model", modelFolder, "--threads", "1" })
            start.ArgumentList.Add(a);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) start.Environment[key] = value;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Collect(e.Data);
        _process.ErrorDataReceived += (_, e) => Collect(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) => _started.TrySetException(new InvalidOperationException($"silo {stages} exited ({_process.ExitCode}):\n{Output}"));
    }

    public string Stages { get; }
    public int SiloPort { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }

    void Collect(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
        if (line.StartsWith("silo started", StringComparison.Ordinal)) _started.TrySetResult();
    }

    public Task Started => _started.Task.WaitAsync(TimeSpan.FromSeconds(120));

    public void Kill() => _process.Kill(entireProcessTree: true);

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.WaitForExit(10_000);
        _process.Dispose();
    }
}
