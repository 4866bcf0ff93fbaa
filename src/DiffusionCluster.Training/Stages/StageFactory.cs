using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Training.Loop;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Stages;

/// Builds a stage by name with the cascade's default sizes. Stages after CLIP read CLIP from the model folder.
public static class StageFactory
{
    public static readonly string[] Names = ["clip", "clip-image", "noisy-clip", "prior", "decoder64", "sr256", "sr1024", "layout"];

    /// objectWeight: the loss weight inside object boxes (1: off); the decoder and the layout model take it.
    public static ITrainingStage Create(string name, string modelFolder, Device device, double objectWeight = 1) => name switch
    {
        "clip" => new ClipStage(CascadeDefaults.TextEncoder, CascadeDefaults.ImageEncoder, CascadeFolder.Path(modelFolder, CascadeFolder.TextEncoder), device),
        "clip-image" => new ClipImageStage(new StageContext(modelFolder, device, needsImageEncoder: false)),
        "noisy-clip" => new NoisyClipStage(CascadeDefaults.NoisyImageEncoder, new StageContext(modelFolder, device, needsImageEncoder: false)),
        "prior" => new PriorStage(CascadeDefaults.Prior, new StageContext(modelFolder, device, needsImageEncoder: true)),
        "decoder64" => new DecoderStage(CascadeDefaults.Decoder64, new StageContext(modelFolder, device, needsImageEncoder: true), objectWeight),
        "sr256" => new SuperResolutionStage("sr256", CascadeDefaults.Sr256, lowSize: 64, crop: CascadeDefaults.Sr256.SampleWindow, maxAugmentationLevel: 500, new StageContext(modelFolder, device, needsImageEncoder: false)),
        "sr1024" => new SuperResolutionStage("sr1024", CascadeDefaults.Sr1024, lowSize: 256, crop: CascadeDefaults.Sr1024.SampleWindow, maxAugmentationLevel: 500, new StageContext(modelFolder, device, needsImageEncoder: false)),
        "layout" => new LayoutStage(CascadeDefaults.Layout, new StageContext(modelFolder, device, needsImageEncoder: false), objectWeight),
        _ => throw new ArgumentException($"unknown stage \"{name}\"; known: {string.Join(", ", Names)}"),
    };
}
