using System.Runtime.InteropServices;

namespace DiffusionCluster.Diffusion;

/// glibc's malloc, which libtorch's CPU tensors come from, tuned so that a network's large buffers (activations,
/// im2col scratch of tens of MB) are reused from the heap instead of being mapped fresh from the kernel on every call.
/// By default glibc maps each block above a threshold that it adapts as blocks are freed, and trims the heap's free top
/// above another; which of the networks' buffers end up mapped then depends on the process's history, and a mapped
/// buffer is zero-filled page by page each time it is touched, so the same super-resolution call runs 2-3x slower in
/// some processes than in others (docs/BENCHMARKS.md, "Native heap"). Operators who set MALLOC_MMAP_THRESHOLD_ or
/// MALLOC_TRIM_THRESHOLD_ themselves keep their settings, and DC_NATIVE_HEAP=libc keeps the C library's defaults.
public static class NativeHeap
{
    /// Blocks below this come from the heap and are reused; above it they are mapped (a rare, whole-batch tensor).
    public const long MmapThresholdBytes = 1L << 30;

    /// Free memory at the heap's top is returned to the kernel only above this much.
    public const long TrimThresholdBytes = 1L << 30;

    const int M_TRIM_THRESHOLD = -1;
    const int M_MMAP_THRESHOLD = -3;

    /// Whether the thresholds were set by this process (false: not glibc, or the operator's environment set them).
    public static bool Tuned { get; private set; }

    /// Sets both thresholds once per process; does nothing off Linux, on a C library without mallopt, or where the
    /// environment names either threshold or DC_NATIVE_HEAP=libc.
    public static void Configure()
    {
        if (!OperatingSystem.IsLinux() || Tuned) return;
        if (Environment.GetEnvironmentVariable("DC_NATIVE_HEAP") == "libc"
            || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null) return;
        try
        {
            Tuned = mallopt(M_MMAP_THRESHOLD, (int)Math.Min(MmapThresholdBytes, int.MaxValue)) == 1
                && mallopt(M_TRIM_THRESHOLD, (int)Math.Min(TrimThresholdBytes, int.MaxValue)) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl has no mallopt): its allocator keeps its own behaviour.
        }
    }

    public static string Describe() => Tuned
        ? $"native heap: glibc mmap and trim thresholds at {MmapThresholdBytes >> 20} MiB"
        : "native heap: the C library's defaults (or the environment's MALLOC_* settings)";

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int mallopt(int param, int value);
}
