using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

/// Stages 3-5: one U-Net denoiser (the 64px decoder or a super-resolution stage) sampled with DDIM,
/// classifier-free guidance over text and image embedding, and thresholding.
public sealed class ImageStage
{
    readonly UNet _unet;
    readonly NoiseSchedule _schedule;

    public ImageStage(string modelFolder, string component, Device device)
    {
        Name = component;
        _unet = CascadeFolder.LoadUNet(modelFolder, component, device);
        _schedule = _unet.Config.Diffusion.BuildSchedule();
        Device = device;
    }

    public string Name { get; }
    public Device Device { get; }
    public int OutputSize => _unet.Config.SampleSize;
    public int TrainTimesteps => _schedule.Length;
    public bool IsSuperResolution => _unet.Config.LowResChannels > 0;

    /// imageEmbedding: z_i for the decoder (null for SR); lowRes: the previous stage's images for SR.
    /// Returns [B, 3, size, size] in [-1, 1].
    public Tensor Sample(TextEncoding text, Tensor? imageEmbedding, Tensor? lowRes, IReadOnlyList<ulong> seeds, StageSampling sampling,
        Action<int, int>? progress = null, CancellationToken cancellation = default)
    {
        sampling.Validate(Name, _schedule.Length);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        int batch = seeds.Count, size = OutputSize;
        var noise = Noise.PerRow(seeds, new long[] { 3, size, size }, Device);
        Tensor? augmented = null, levels = null;
        if (lowRes is not null)
        {
            // Augmentation noise per row from the row's own seed, like the starting noise; none at level 0.
            augmented = sampling.AugmentationLevel == 0
                ? lowRes
                : _schedule.AddNoise(lowRes, Noise.PerRow(seeds.Select(s => s ^ 0xA5A5A5A5UL).ToList(), lowRes.shape[1..], Device), sampling.AugmentationLevel);
            levels = full(new long[] { batch }, sampling.AugmentationLevel, int64, Device);
        }
        var conditioning = new UNetConditioning(text, imageEmbedding, augmented, levels);
        Denoiser model;
        if (sampling.Guidance == 1)
        {
            model = (x, t) => _unet.forward(x, full(new long[] { x.shape[0] }, t, int64, Device), conditioning);
        }
        else
        {
            var doubled = new UNetConditioning(
                TextStage.Doubled(text),
                imageEmbedding is null ? null : cat(new[] { imageEmbedding, imageEmbedding }),
                augmented is null ? null : cat(new[] { augmented, augmented }),
                levels is null ? null : cat(new[] { levels, levels }),
                cat(new[] { zeros(batch, dtype: @bool), ones(batch, dtype: @bool) }).to(Device));
            model = ClassifierFreeGuidance.Guide((x, t) => _unet.forward(x, full(new long[] { x.shape[0] }, t, int64, Device), doubled), sampling.Guidance, 3);
        }
        var options = new SamplerOptions
        {
            Prediction = _unet.Config.Diffusion.Prediction,
            Thresholding = sampling.ParseThresholding(Name),
            Progress = progress,
        };
        var images = Sampler.Sample(model, noise, sampling.Scheduler(_schedule), options, cancellation);
        return images.clamp(-1, 1).MoveToOuterDisposeScope();
    }
}
