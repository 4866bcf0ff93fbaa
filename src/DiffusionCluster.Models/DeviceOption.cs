using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models;

/// Parses "cpu", "cuda" or "cuda:N" and refuses a CUDA device that cannot be used, rather than
/// silently falling back to the CPU.
public static class DeviceOption
{
    public static Device Parse(string text)
    {
        var value = text.Trim().ToLowerInvariant();
        if (value == "cpu") return CPU;
        if (value != "cuda" && !value.StartsWith("cuda:", StringComparison.Ordinal))
            throw new ArgumentException($"device \"{text}\" is not one of cpu, cuda, cuda:N");
        int index = 0;
        if (value.Length > 4 && !int.TryParse(value[5..], out index))
            throw new ArgumentException($"device \"{text}\": N in cuda:N must be a GPU index");
        if (!cuda.is_available())
            throw new InvalidOperationException($"device \"{text}\" was asked for but CUDA cannot be initialised here (no GPU, or a CPU-only libtorch build)");
        if (index >= cuda.device_count())
            throw new InvalidOperationException($"device \"{text}\" does not exist: {cuda.device_count()} CUDA device(s) visible");
        return new Device(DeviceType.CUDA, index);
    }
}
