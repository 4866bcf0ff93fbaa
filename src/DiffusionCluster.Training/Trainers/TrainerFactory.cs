using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Training.Loop;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// Builds a stage by name with the cascade's default sizes. Stages after CLIP read CLIP from the model folder.
public static class TrainerFactory
{
    public static readonly string[] Names = ["clip", "clip-image", "noisy-clip", "prior", "decoder64", "sr256", "sr1024", "layout"];

    /// objectWeight: the loss weight inside object boxes (1: off); the decoder and the layout model take it.
    /// generatedInputs, generatedShare, generatedTarget, flatFrom: the SR stages' share of rows conditioned on the
    /// cascade's own pictures, what those rows learn to make, and the pictures their flat targets snap.
    public static ITrainer Create(string name, string modelFolder, Device device, double objectWeight = 1, GeneratedBases? generatedInputs = null,
        double generatedShare = 0, GeneratedTarget generatedTarget = GeneratedTarget.Render, GeneratedBases? flatFrom = null) => name switch
    {
        "clip" => new ClipTrainer(CascadeDefaults.TextEncoder, CascadeDefaults.ImageEncoder, CascadeFolder.Path(modelFolder, CascadeFolder.TextEncoder), device),
        "clip-image" => new ClipImageTrainer(new TrainingContext(modelFolder, device, needsImageEncoder: false)),
        "noisy-clip" => new NoisyClipTrainer(CascadeDefaults.NoisyImageEncoder, new TrainingContext(modelFolder, device, needsImageEncoder: false)),
        "prior" => new PriorTrainer(CascadeDefaults.Prior, new TrainingContext(modelFolder, device, needsImageEncoder: true)),
        "decoder64" => new DecoderTrainer(CascadeDefaults.Decoder64, new TrainingContext(modelFolder, device, needsImageEncoder: true), objectWeight),
        "sr256" => new SuperResolutionTrainer("sr256", CascadeDefaults.Sr256, lowSize: 64, crop: CascadeDefaults.Sr256.SampleWindow, maxAugmentationLevel: 500, new TrainingContext(modelFolder, device, needsImageEncoder: false), generatedInputs, generatedShare, generatedTarget, flatFrom),
        "sr1024" => new SuperResolutionTrainer("sr1024", CascadeDefaults.Sr1024, lowSize: 256, crop: CascadeDefaults.Sr1024.SampleWindow, maxAugmentationLevel: 500, new TrainingContext(modelFolder, device, needsImageEncoder: false), generatedInputs, generatedShare, generatedTarget, flatFrom),
        "layout" => new LayoutTrainer(CascadeDefaults.Layout, new TrainingContext(modelFolder, device, needsImageEncoder: false), objectWeight),
        _ => throw new ArgumentException($"unknown stage \"{name}\"; known: {string.Join(", ", Names)}"),
    };
}
