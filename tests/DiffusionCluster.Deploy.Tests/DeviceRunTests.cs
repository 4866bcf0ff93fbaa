namespace DiffusionCluster.Deploy.Tests;

/// deploy/gpu/prepare-device-run.sh: the folder a GPU device run carries: the CLI without libtorch-cpu's natives (the
/// GPU machine's PyTorch libraries replace them) and a trimmed .NET runtime that still runs it, which with the working
/// tree fits a 64 MiB transfer (--max-mib).
public sealed class DeviceRunTests
{
    [Fact]
    public void The_device_run_folder_trains_and_generates_on_its_trimmed_runtime_and_fits_the_carry_limit_with_the_tree()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"dc-device-{Guid.NewGuid():N}");
        var unpacked = Path.Combine(Path.GetTempPath(), $"dc-device-unpacked-{Guid.NewGuid():N}");
        try
        {
            var (code, output) = Repository.Run(Path.Combine(Repository.Root, "deploy", "gpu", "prepare-device-run.sh"), $"--out {folder} --max-mib 64", TimeSpan.FromMinutes(8));
            Assert.True(code == 0, output);
            Assert.Contains($"bash {folder}/run.sh generate", output);
            Assert.Contains("/tmp/dotnet/app/diffusion-cluster.dll", File.ReadAllText(Path.Combine(folder, "run.sh")));

            var (_, listing) = Repository.Run("tar", $"tJf {folder}/app.tar.xz");
            var files = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains("app/diffusion-cluster.dll", files);
            Assert.Contains("app/TorchSharp.dll", files);
            Assert.Contains("app/libLibTorchSharp.so", files);
            Assert.DoesNotContain(files, f => Path.GetFileName(f).StartsWith("libtorch", StringComparison.Ordinal));

            // The CLI trains a step on the trimmed runtime (libtorch from the NuGet cache stands in for PyTorch's).
            Directory.CreateDirectory(unpacked);
            Assert.Equal(0, Repository.Run("tar", $"xJf {folder}/dotnet.tar.xz -C {unpacked}").Code);
            Assert.Equal(0, Repository.Run("tar", $"xJf {folder}/app.tar.xz -C {unpacked}").Code);
            Assert.Equal(0, Repository.Run("cp", $"-r models/shapes-cascade {unpacked}/model").Code);
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var libtorch = Directory.GetDirectories(Path.Combine(packages, "libtorch-cpu-linux-x64")).Single();
            (int Code, string Output) OnKit(string command) => Repository.Run("env",
                $"LD_LIBRARY_PATH={libtorch}/runtimes/linux-x64/native DOTNET_ROOT={unpacked} DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 " +
                $"{unpacked}/dotnet {unpacked}/app/diffusion-cluster.dll {command}");
            var (trained, log) = OnKit($"train prior --model {unpacked}/model --checkpoints {unpacked}/checkpoints --steps 1 --batch 2");
            Assert.True(trained == 0, log);
            Assert.Contains("prior: step 1/1", log);
            // generate runs an embedded silo (Orleans, hosting, dependency injection), which loads more of the runtime.
            var image = Path.Combine(unpacked, "image.png");
            var (generated, generateLog) = OnKit($"generate \"a red circle\" --model {unpacked}/model --size 64 --out {image}");
            Assert.True(generated == 0, generateLog);
            Assert.True(File.Exists(image), generateLog);

            long carried = Directory.EnumerateFiles(folder).Sum(f => new FileInfo(f).Length);
            var (_, tracked) = Repository.Run("git", "ls-files");
            long tree = tracked.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(f => Path.Combine(Repository.Root, f)).Where(File.Exists).Sum(f => new FileInfo(f).Length);
            Assert.True(carried + tree <= 64L << 20, $"carried {carried >> 20} MiB + tree {tree >> 20} MiB");
        }
        finally
        {
            foreach (var path in new[] { folder, unpacked })
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
    }
}
