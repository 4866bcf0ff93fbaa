using System.Diagnostics;
using System.Text;

namespace DiffusionCluster.Grains.Tests.MultiProcess;

/// Runs the built CLI as a user does and returns its exit code and everything it printed (stdout and stderr).
static class CliRun
{
    public static async Task<(int ExitCode, string Output)> Run(TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Repository.Cli(), .. arguments]) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        void Collect(string? line) { if (line is not null) lock (output) output.AppendLine(line); }
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            lock (output) throw new TimeoutException($"{string.Join(' ', arguments.Take(2))} ran past {timeout.TotalSeconds:0} s:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}
