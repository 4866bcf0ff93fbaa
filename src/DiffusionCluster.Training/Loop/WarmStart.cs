using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Models.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Loop;

/// Starts a network from trained weights of a smaller version of it: every tensor is copied into the leading
/// slice of the new one and the rest is zeroed; a tensor the weights lack may only belong to a layer that starts
/// as a no-op (UNet.StartsAsNoOp: the image map), which keeps its initialisation.
/// Adding input channels (e.g. coordinate channels) or a layer whose output starts at zero (the image map) to a
/// trained U-Net this way leaves its function unchanged at the first step; training then learns to use them.
public static class WarmStart
{
    public static void Load(nn.Module module, string weightsPath, TextWriter log)
    {
        var source = Safetensors.Read(weightsPath);
        int widened = 0;
        var added = new List<string>();
        try
        {
            using var _ = no_grad();
            foreach (var (name, target) in module.state_dict())
            {
                if (!source.TryGetValue(name, out var from))
                {
                    if (module is not UNet || !UNet.StartsAsNoOp(name))
                        throw new ModelFormatException(weightsPath, $"has no tensor {name} to start from (shape [{string.Join(", ", target.shape)}])");
                    added.Add(name);
                    continue;
                }
                if (from.shape.SequenceEqual(target.shape))
                {
                    target.copy_(from);
                    continue;
                }
                if (from.dim() != target.dim() || from.shape.Zip(target.shape).Any(d => d.First > d.Second))
                    throw new ModelFormatException(weightsPath, $"tensor {name} has shape [{string.Join(", ", from.shape)}], which does not fit in [{string.Join(", ", target.shape)}]");
                target.zero_();
                target[from.shape.Select(d => TensorIndex.Slice(0, d)).ToArray()].copy_(from);
                log.WriteLine($"warm start: {name} widened from [{string.Join(", ", from.shape)}] to [{string.Join(", ", target.shape)}] with zeros");
                widened++;
            }
            var unused = source.Keys.Except(module.state_dict().Keys).ToList();
            if (unused.Count > 0)
                throw new ModelFormatException(weightsPath, $"has tensors the model does not: {string.Join(", ", unused.Take(5))}");
        }
        finally
        {
            foreach (var t in source.Values) t.Dispose();
        }
        foreach (var name in added) log.WriteLine($"warm start: {name} is new and keeps its initialisation");
        log.WriteLine($"warm start: {source.Count} tensors from {weightsPath} ({widened} widened, {added.Count} new)");
    }
}
