using DiffusionCluster.Models.Configs;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Weights;

/// One component folder of a model: config.json (the network's size) and model.safetensors (its weights).
public static class Component
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";

    /// storage: the dtype floating-point weights are written in (F16 halves a folder; loading converts back).
    public static void Save<TConfig>(string folder, TConfig config, nn.Module module, ScalarType? storage = null) where TConfig : INetworkConfig
    {
        Directory.CreateDirectory(folder);
        ConfigJson.Write(Path.Combine(folder, ConfigFile), config);
        using var scope = NewDisposeScope();
        var weights = module.state_dict().ToDictionary(kv => kv.Key,
            kv => storage is { } dtype && kv.Value.is_floating_point() ? kv.Value.detach().to(dtype) : kv.Value);
        Safetensors.Save(Path.Combine(folder, WeightsFile), weights);
    }

    public static TConfig ReadConfig<TConfig>(string folder) where TConfig : INetworkConfig =>
        ConfigJson.Read<TConfig>(Path.Combine(folder, ConfigFile));

    /// Builds the network its config describes, fills it from the weights file (exact names, shapes and
    /// dtypes), moves it to the device and puts it in evaluation mode. Dispose scopes are per thread, so the
    /// module is built on a thread with none: a scope open in the caller (models load lazily, often inside
    /// one) would otherwise free the weights when it ends.
    public static TModule Load<TConfig, TModule>(string folder, Func<TConfig, TModule> build, Device? device = null)
        where TConfig : INetworkConfig where TModule : nn.Module
    {
        if (!Directory.Exists(folder)) throw new ModelFormatException(folder, "component folder is missing");
        // A thread of its own (a waited-on Task may run inline, on this thread, inside the caller's scope).
        TModule? module = null;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
        var loader = new Thread(() =>
        {
            try
            {
                module = LoadHere(folder, build, device);
            }
            catch (Exception e)
            {
                failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
        }) { Name = "load " + Path.GetFileName(folder) };
        loader.Start();
        loader.Join();
        failure?.Throw();
        return module!;
    }

    static TModule LoadHere<TConfig, TModule>(string folder, Func<TConfig, TModule> build, Device? device)
        where TConfig : INetworkConfig where TModule : nn.Module
    {
        var module = build(ReadConfig<TConfig>(folder));
        Safetensors.LoadInto(Path.Combine(folder, WeightsFile), module.state_dict());
        if (device is not null) module.to(device);
        module.eval();
        return module;
    }
}
