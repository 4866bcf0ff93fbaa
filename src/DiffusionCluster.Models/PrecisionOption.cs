using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models;

/// Parses "fp32", "fp16" or "bf16": the dtype the networks run in. Sampling arithmetic (schedules, the
/// sampler's updates, thresholding) stays in fp32 either way; only network forwards change.
public static class PrecisionOption
{
    public static readonly string[] Names = ["fp32", "fp16", "bf16"];

    public static ScalarType Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" => ScalarType.Float32,
        "fp16" or "float16" => ScalarType.Float16,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        _ => throw new ArgumentException($"precision \"{text}\" is not one of {string.Join(", ", Names)}"),
    };

    /// Half precision is for GPUs: on this CPU bf16 measured ~115x slower than fp32, so it is refused there.
    public static ScalarType Parse(string text, Device device)
    {
        var dtype = Parse(text);
        if (dtype != ScalarType.Float32 && device.type != DeviceType.CUDA)
            throw new ArgumentException($"precision {text} needs a CUDA device (fp16/bf16 on a CPU runs about 100x slower than fp32); use fp32 on {device}");
        return dtype;
    }

    public static string Name(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => "fp16",
        ScalarType.BFloat16 => "bf16",
        _ => "fp32",
    };
}
