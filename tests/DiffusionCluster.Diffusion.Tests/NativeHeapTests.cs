using DiffusionCluster.Diffusion;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion.Tests;

public class NativeHeapTests
{
    [Fact]
    public void The_runtime_fixes_glibc_s_heap_thresholds_before_libtorch_allocates_unless_the_environment_chose()
    {
        using var warm = zeros(1); // loads libtorch and the runtime's set-up
        bool environmentChose = Environment.GetEnvironmentVariable("DC_NATIVE_HEAP") == "libc"
            || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null;
        if (!OperatingSystem.IsLinux() || environmentChose)
        {
            Assert.False(NativeHeap.Tuned);
            return;
        }

        Assert.True(NativeHeap.Tuned, "mallopt refused the thresholds on this Linux machine");
        Assert.Contains("1024 MiB", NativeHeap.Describe());
        NativeHeap.Configure(); // a second call changes nothing
        Assert.True(NativeHeap.Tuned);
    }
}
