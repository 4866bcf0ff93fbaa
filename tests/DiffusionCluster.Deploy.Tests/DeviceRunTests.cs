namespace DiffusionCluster.Deploy.Tests;

/// deploy/gpu/prepare-device-run.sh: the folder a GPU device run carries, under the carry limit, without
/// libtorch-cpu's natives (the GPU machine's PyTorch libraries replace them).
public sealed class DeviceRunTests
{
    [Fact]
    public void The_device_run_folder_holds_the_cli_the_runtime_and_the_launcher_under_64_mib()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"dc-device-{Guid.NewGuid():N}");
        try
        {
            var (code, output) = Repository.Run(Path.Combine(Repository.Root, "deploy", "gpu", "prepare-device-run.sh"), $"--out {folder}", TimeSpan.FromMinutes(8));

            Assert.True(code == 0, output);
            Assert.Contains($"carry: [\"{folder}\"]", output);
            Assert.True(File.Exists(Path.Combine(folder, "app", "diffusion-cluster.dll")));
            Assert.True(File.Exists(Path.Combine(folder, "app", "TorchSharp.dll")));
            Assert.True(File.Exists(Path.Combine(folder, "app", "libLibTorchSharp.so")));
            Assert.Empty(Directory.GetFiles(Path.Combine(folder, "app"), "libtorch*.so"));
            Assert.True(File.Exists(Path.Combine(folder, "dotnet.tar.xz")));
            Assert.Contains("app/diffusion-cluster.dll", File.ReadAllText(Path.Combine(folder, "run.sh")));
            long bytes = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            Assert.True(bytes <= 64L << 20, $"{bytes >> 20} MiB");
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
