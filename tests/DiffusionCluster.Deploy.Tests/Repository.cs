using System.Diagnostics;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace DiffusionCluster.Deploy.Tests;

static class Repository
{
    public static string Root { get; } = Find();

    static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "DiffusionCluster.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("repository root not found");
    }

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
