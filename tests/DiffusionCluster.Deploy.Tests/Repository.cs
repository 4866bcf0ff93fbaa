using System.Diagnostics;
using DiffusionCluster.Tests.Shared;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace DiffusionCluster.Deploy.Tests;

static class Repository
{
    public static string Root => RepositoryRoot.Path;

    public static (int Code, string Output) Run(string file, string arguments, TimeSpan? timeout = null)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(5))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public static string Helm(string arguments)
    {
        var (code, output) = Run(Path.Combine(Root, "deploy", "tools", "helm.sh"), arguments);
        Assert.True(code == 0, $"helm {arguments} failed:\n{output}");
        return output;
    }
}
