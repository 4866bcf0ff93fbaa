using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Editing;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

/// Stages 3-5: one U-Net denoiser (the 64px decoder or a super-resolution stage) sampled with DDIM,
/// classifier-free guidance over text and image embedding, and thresholding.
public sealed class ImageSampler
{
    readonly UNet _unet;
    readonly NoiseSchedule _schedule;
    readonly LayoutNetwork? _layout;

    readonly ScalarType _dtype;

    /// tiling: how a super-resolution stage covers its image (default: its config's window, WindowTiling.For).
    public ImageSampler(string modelFolder, string component, Device device, ScalarType dtype = ScalarType.Float32, WindowTiling? tiling = null)
    {
        Name = component;
        _unet = CascadeFolder.LoadUNet(modelFolder, component, device);
        _unet.to(dtype);
        NetworkKernelCheck.Check(_unet, component, device, dtype);
        _dtype = dtype;
        _schedule = _unet.Config.Diffusion.BuildSchedule();
        if (tiling is not null && _unet.Config.LowResChannels == 0)
            throw new ArgumentException($"{component} is not a super-resolution stage; only those sample in windows");
        Tiling = tiling ?? WindowTiling.For(_unet.Config);
        Device = device;
        Defaults = SamplingDefaults.Load(modelFolder).For(component);
        if (component == CascadeFolder.Decoder64 && Directory.Exists(CascadeFolder.Path(modelFolder, CascadeFolder.Layout)))
        {
            _layout = CascadeFolder.LoadLayout(modelFolder, device);
            if (_layout.Config.ImageSize != OutputSize)
                throw new Configs.ModelFormatException(CascadeFolder.Path(modelFolder, CascadeFolder.Layout), $"image_size = {_layout.Config.ImageSize} but the decoder makes {OutputSize} px images");
        }
    }

    public string Name { get; }
    public Device Device { get; }
    public int OutputSize => _unet.Config.SampleSize;
    public int TrainTimesteps => _schedule.Length;
    public NoiseSchedule Schedule => _schedule;
    public bool IsSuperResolution => _unet.Config.LowResChannels > 0;
    /// The windows the network runs in (null: the whole image at once).
    public WindowTiling? Tiling { get; }
    /// Whether sampling can hold the decoder to a layout model's picture of the caption (SamplingOptions.Layout).
    public bool HasLayout => _layout is not null;

    /// This stage's sampling defaults, from the model folder's sampling.json.
    public SamplingOptions Defaults { get; }

    /// The share of the trajectory held to the layout model's picture: the asked one, else the folder's default
    /// when the folder has a layout model (0 when it has none).
    public double LayoutShare(SamplingOptions sampling) => sampling.Layout ?? (_layout is null ? 0 : Defaults.Layout ?? 0);

    /// Checks the options against this stage (ranges, schedule length, thresholding text); a layout share asked of
    /// a stage without a layout model is refused rather than ignored.
    public void Validate(SamplingOptions sampling) => _ = Checked(sampling);

    ResolvedSampling Checked(SamplingOptions sampling)
    {
        var resolved = Resolve(sampling);
        if (sampling.Layout > 0 && _layout is null)
            throw new ArgumentException($"{Name}: layout = {sampling.Layout} needs a layout model and the model folder has none (`train layout` makes one; 0 samples without)");
        return resolved;
    }

    ResolvedSampling Resolve(SamplingOptions sampling) =>
        ResolvedSampling.Of(sampling with { Layout = LayoutShare(sampling) }, Defaults, Name, _schedule);

    /// imageEmbedding: z_i for the decoder (null for SR); lowRes: the previous stage's images for SR; text may be
    /// null only with decode.WithoutText. decode carries an image operation's controls (start latent, SDEdit,
    /// ILVR, inpainting, CLIP guidance). Returns [B, 3, size, size] in [-1, 1].
    public Tensor Sample(TextEncoding? text, Tensor? imageEmbedding, Tensor? lowRes, IReadOnlyList<ulong> seeds, SamplingOptions options,
        StepProgress? progress = null, CancellationToken cancellation = default, DecodeOptions? decode = null)
    {
        decode ??= DecodeOptions.None;
        var sampling = Checked(options);
        decode.Guide?.Validate(OutputSize);
        if (_unet.Config.PredictsResidual && (decode.Guide is not null || decode.StartNoise is not null))
            throw new ArgumentException($"{Name} diffuses a residual over its input; image edits run on the base decoder");
        if (text is null && !decode.WithoutText) throw new ArgumentException($"{Name}: no text features were given");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        int batch = seeds.Count, size = OutputSize;
        var noise = Noise.PerRow(seeds, new long[] { 3, size, size }, Device);
        var conditioning = Conditioning(decode.WithoutText ? null : text, imageEmbedding, lowRes, seeds, sampling);
        var config = _unet.Config;
        var bicubic = ResidualBase(lowRes);
        var thresholding = sampling.Thresholding;
        if (bicubic is not null && thresholding is not NoThresholding)
            thresholding = new ResidualThresholding(thresholding, bicubic, config.ResidualScale);
        var model = Denoiser(conditioning, sampling.Guidance, batch);
        var scheduler = sampling.Scheduler(_schedule);
        var sampler = new SamplerOptions
        {
            Prediction = config.Diffusion.Prediction,
            Thresholding = thresholding,
            Progress = InImageSpace(progress, bicubic),
            Gradient = decode.Clip?.Gradient,
            Generator = new Generator(seeds[0] ^ 0x5EED5EEDUL),
        };
        var start = decode.StartNoise?.to(Device) ?? noise;
        switch (decode.Guide)
        {
            case SdEditGuide sdEdit:
                int index = SdEdit.StartIndex(sdEdit.Strength, scheduler);
                start = _schedule.AddNoise(sdEdit.Guide.to(Device), noise, scheduler.Timesteps[index]);
                sampler = sampler with { StartIndex = index };
                break;
            case IlvrGuide ilvr:
                sampler = sampler with { Refinement = new Ilvr(ilvr.Reference.to(Device), ilvr.Factor, ilvr.Cutoff == 0 ? -1 : (int)Math.Round(ilvr.Cutoff * (_schedule.Length - 1)),
                    GuideNoise(seeds, ilvr.Reference.shape[1..])) };
                break;
            case InpaintGuide inpaint:
                // RePaint re-noises each step's result and runs the step again, which suits DDIM's one-step update; a
                // multistep solver's extrapolation across re-noised states does not (the hole came out worse than a
                // flat fill), so inpainting runs DDIM with the asked step count whatever the stage's solver.
                scheduler = (sampling with { Solver = SamplingOptions.Ddim }).Scheduler(_schedule);
                sampler = sampler with { Refinement = new Inpainting(inpaint.Known.to(Device), inpaint.Keep.to(Device)), Resample = inpaint.Resample };
                break;
            // A decode from a given start latent (an inverted image) keeps the layout the latent carries.
            case null when sampling.Layout is > 0 and var share && decode.StartNoise is null && decode.Layout is not null:
                sampler = sampler with { Refinement = LayoutGuide(decode.Layout.to(Device), share, seeds) };
                break;
            case null when sampling.Layout is > 0 and var share && decode.StartNoise is null && text is not null && !decode.WithoutText:
                sampler = sampler with { Refinement = LayoutGuide(Layout(text), share, seeds) };
                break;
        }
        var images = Sampler.Sample(model, start, scheduler, sampler, cancellation);
        using Scalar residualScale = config.ResidualScale, low = -1, high = 1; // held to the end: TorchRuntime says why
        if (bicubic is not null) images = bicubic + images / residualScale;
        return images.clamp(low, high).MoveToOuterDisposeScope();
    }

    /// The progress with each step's estimate as images in [-1, 1]: a residual stage's estimate is of its scaled
    /// residual over bicubic.
    StepProgress? InImageSpace(StepProgress? progress, Tensor? bicubic) => progress is null || bicubic is null ? progress
        : (done, total, estimate) => progress(done, total, estimate is null ? null : () => (bicubic + estimate() / _unet.Config.ResidualScale).clamp(-1, 1));

    /// A contrastive edit (ContrastEditOptions) of images [B, 3, size, size] from the source conditioning toward the
    /// target: only where the two disagree is redrawn, and the rest is the source's pixels. Noise comes from seed.
    public EditResult Edit(Tensor images, EditCondition source, EditCondition target, ContrastEditOptions options, ulong seed,
        StepProgress? progress = null, CancellationToken cancellation = default)
    {
        options.Validate();
        if (IsSuperResolution) throw new ArgumentException($"{Name} diffuses a residual over its input; image edits run on the base decoder");
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != OutputSize || images.shape[3] != OutputSize)
            throw new ArgumentException($"{Name}: images must be [B, 3, {OutputSize}, {OutputSize}]; got [{string.Join(", ", images.shape)}]");
        var sampling = Resolve(new SamplingOptions(Steps: options.Steps, Guidance: options.Guidance, AugmentationLevel: 0));
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        images = images.to(Device);
        int batch = (int)images.shape[0];
        var seeds = Enumerable.Range(0, batch).Select(i => seed + (ulong)i).ToList();
        var sourceRows = Conditioning(source.Text, source.ImageEmbedding.to(Device), null, seeds, sampling);
        var targetRows = Conditioning(target.Text, target.ImageEmbedding.to(Device), null, seeds, sampling);
        var pair = targetRows.Then(sourceRows);
        var prediction = _unet.Config.Diffusion.Prediction;

        // The mask: every draw's noised image run under both conditionings in one pass, [target; source] per draw.
        int maskTimestep = (int)Math.Round(options.MaskLevel * (_schedule.Length - 1));
        var noisy = Enumerable.Range(0, options.MaskDraws)
            .Select(d => _schedule.AddNoise(images, Noise.PerRow(seeds.Select(s => s ^ (0x9E3779B97F4A7C15UL * (ulong)(d + 1))).ToList(), images.shape[1..], Device), maskTimestep))
            .ToList();
        var outputs = Forward(cat(noisy.SelectMany(x => new[] { x, x }).ToArray()), maskTimestep, pair.Repeat(options.MaskDraws)).chunk(2 * options.MaskDraws);
        using var level = Parameterization.Level(_schedule.AlphaBar(maskTimestep));
        var difference = zeros_like(images);
        for (int d = 0; d < options.MaskDraws; d++)
        {
            var (targetClean, _) = Parameterization.ToX0AndEps(prediction, outputs[2 * d][.., ..3], noisy[d], level);
            var (sourceClean, _) = Parameterization.ToX0AndEps(prediction, outputs[2 * d + 1][.., ..3], noisy[d], level);
            difference += (targetClean - sourceClean).abs();
        }
        var mask = EditMask.FromDifference(difference, options.MaskThreshold, options.MaskDilation);

        // Partial DDIM encoding under the source, then sampling back under the target, the source pasted outside the mask.
        var scheduler = new DdimScheduler(_schedule, Respacing.Evenly(options.Steps, _schedule.Length));
        int start = SdEdit.StartIndex(options.Strength, scheduler);
        var encoded = DdimInversion.Invert(Denoiser(sourceRows, 1, batch), prediction, images, scheduler, cancellation, start);
        Denoiser model = options.Guidance == 1
            ? (x, t) => Forward(x, t, targetRows)
            : ClassifierFreeGuidance.Guide((x, t) => Forward(x, t, pair), options.Guidance, 3);
        var sampler = new SamplerOptions
        {
            Prediction = prediction,
            Thresholding = sampling.Thresholding,
            StartIndex = start,
            Refinement = new Inpainting(images, 1 - mask),
            Generator = new Generator(seed ^ 0x5EED5EEDUL),
            Progress = progress,
        };
        var edited = Sampler.Sample(model, encoded, scheduler, sampler, cancellation).clamp(-1, 1);
        return new EditResult(edited.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// The network's one-step estimate of clean images [B, 3, size, size] from the same images noised to timestep t
    /// (noise from each row's seed), conditional, guidance 1, clean SR input: what a sampling step at t starts from.
    /// Residual stages noise and estimate the scaled residual over bicubic; the result is in image space either way.
    public Tensor EstimateClean(TextEncoding? text, Tensor? imageEmbedding, Tensor? lowRes, Tensor images, int t, IReadOnlyList<ulong> seeds)
    {
        if (t < 0 || t >= _schedule.Length) throw new ArgumentException($"timestep {t}; allowed 0 to {_schedule.Length - 1}");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var config = _unet.Config;
        images = images.to(Device);
        var bicubic = ResidualBase(lowRes);
        var clean = bicubic is null ? images : (images - bicubic) * config.ResidualScale;
        var noisy = _schedule.AddNoise(clean, Noise.PerRow(seeds, clean.shape[1..], Device), t);
        var conditioning = Conditioning(text, imageEmbedding, lowRes?.to(Device), seeds, Resolve(new SamplingOptions(Steps: 1, Guidance: 1, AugmentationLevel: 0)));
        var prediction = Denoiser(conditioning, 1, seeds.Count)(noisy, t);
        var (estimate, _) = Parameterization.ToX0AndEps(config.Diffusion.Prediction, prediction, noisy, Parameterization.Level(_schedule.AlphaBar(t)));
        if (bicubic is not null) estimate = bicubic + estimate / config.ResidualScale;
        return estimate.clamp(-1, 1).MoveToOuterDisposeScope();
    }

    /// DDIM inversion of images [B, 3, size, size] under the conditional model (guidance 1, as unCLIP inverts):
    /// the x_T that DDIM sampling with the same conditioning and step count decodes back to the images.
    public Tensor Invert(TextEncoding? text, Tensor? imageEmbedding, Tensor images, int steps, CancellationToken cancellation = default)
    {
        var sampling = Resolve(new SamplingOptions(Steps: steps, Guidance: 1, AugmentationLevel: 0));
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var conditioning = Conditioning(text, imageEmbedding, null, [0], sampling);
        var model = Denoiser(conditioning, 1, (int)images.shape[0]);
        var scheduler = new DdimScheduler(_schedule, Respacing.Evenly(steps, _schedule.Length));
        return DdimInversion.Invert(model, _unet.Config.Diffusion.Prediction, images.to(Device), scheduler, cancellation).MoveToOuterDisposeScope();
    }

    /// The network's inputs in its dtype (the sampler's own tensors stay float32).
    /// Pixel features for label-efficient segmentation: the images noised to each timestep (noise from the seed),
    /// run through the U-Net unconditionally (the null condition), and the chosen decoder-path blocks' outputs
    /// upsampled to the image size and concatenated: [B, sum of block widths x timesteps, H, W].
    public Tensor Features(Tensor images, IReadOnlyList<int> timesteps, IReadOnlyList<int> blocks, ulong seed)
    {
        if (IsSuperResolution) throw new InvalidOperationException($"{Name}: features come from the base decoder, not a super-resolution stage");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        images = images.to(Device);
        long batch = images.shape[0];
        var noise = Noise.PerRow(Enumerable.Repeat(seed, (int)batch).ToList(), images.shape[1..], Device);
        var embedding = _unet.Config.ImageEmbedDim > 0 ? zeros(new long[] { batch, _unet.Config.ImageEmbedDim }, device: Device).to(_dtype) : null;
        var drop = ones(batch, dtype: @bool, device: Device);
        var parts = new List<Tensor>();
        foreach (var t in timesteps)
        {
            if (t < 0 || t >= _schedule.Length) throw new ArgumentException($"feature timestep {t}; allowed 0 to {_schedule.Length - 1}");
            var activations = new List<Tensor>();
            _unet.forward(_schedule.AddNoise(images, noise, t).to(_dtype), full(new long[] { batch }, t, int64, Device),
                new UNetConditioning(ImageEmbedding: embedding, DropConditioning: drop), activations);
            foreach (var b in blocks)
            {
                if (b < 0 || b >= activations.Count) throw new ArgumentException($"decoder block {b}; this U-Net has blocks 0 to {activations.Count - 1}");
                parts.Add(nn.functional.interpolate(activations[b].to(ScalarType.Float32), new[] { images.shape[2], images.shape[3] },
                    mode: InterpolationMode.Bilinear, align_corners: false));
            }
        }
        return cat(parts.ToArray(), 1).MoveToOuterDisposeScope();
    }

    /// The layout model's picture of each caption [B, 3, S, S], clamped to [-1, 1].
    public Tensor Layout(TextEncoding text)
    {
        if (_layout is null) throw new InvalidOperationException($"{Name}: the model folder has no layout model");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return _layout.forward(text).clamp(-1, 1).MoveToOuterDisposeScope();
    }

    /// A guide's noise at timestep t: each row from its own seed and t, never from the batch's first seed.
    Func<int, Tensor> GuideNoise(IReadOnlyList<ulong> seeds, long[] shape) =>
        t => Noise.PerRow(seeds.Select(s => s ^ (0x1F1F1F1FUL * (ulong)(t + 2))).ToList(), shape, Device);

    /// ILVR toward a layout picture (the layout model's, or an image's own), upsampled to the image by repetition (so its low-pass is the picture
    /// itself), at the timesteps in the first `share` of the trajectory from pure noise (all of it, to the final step, at 1;
    /// as IlvrGuide's cut-off 1 - share).
    Ilvr LayoutGuide(Tensor picture, double share, IReadOnlyList<ulong> seeds)
    {
        if (picture.dim() != 4 || picture.shape[1] != 3 || picture.shape[2] * LayoutFactor != OutputSize || picture.shape[3] * LayoutFactor != OutputSize)
            throw new ArgumentException($"{Name}: a layout picture must be [B, 3, {OutputSize / LayoutFactor}, {OutputSize / LayoutFactor}]; got [{string.Join(", ", picture.shape)}]");
        var reference = nn.functional.interpolate(picture, new long[] { OutputSize, OutputSize }, mode: InterpolationMode.Nearest);
        int minTimestep = share >= 1 ? -1 : (int)Math.Round((1 - share) * (_schedule.Length - 1));
        return new Ilvr(reference, LayoutFactor, minTimestep, GuideNoise(seeds, reference.shape[1..]));
    }

    /// What the layout model is trained to draw for images [B, 3, size, size]: them average-pooled to its size.
    public Tensor LayoutTarget(Tensor images) => (_layout ?? throw new InvalidOperationException($"{Name}: the model folder has no layout model")).Target(images);

    /// How many image pixels a layout pixel covers per side (ILVR's factor N for the layout guide).
    public int LayoutFactor => _layout?.Config.Factor ?? throw new InvalidOperationException($"{Name}: the model folder has no layout model");

    /// Bicubic upsampling of the input, which a residual stage diffuses the residual over; null for other stages.
    Tensor? ResidualBase(Tensor? lowRes)
    {
        if (!_unet.Config.PredictsResidual) return null;
        if (lowRes is null) throw new ArgumentException($"{Name} needs the low-resolution image it upsamples");
        return Upsampling.Bicubic(lowRes.to(Device), OutputSize);
    }

    UNetConditioning Conditioning(TextEncoding? text, Tensor? imageEmbedding, Tensor? lowRes, IReadOnlyList<ulong> seeds, ResolvedSampling sampling)
    {
        text = text?.To(_dtype);
        imageEmbedding = imageEmbedding?.to(_dtype);
        if (lowRes is null) return new UNetConditioning(text, imageEmbedding);
        // Augmentation noise per row from the row's own seed, like the starting noise; none at level 0.
        var augmented = sampling.AugmentationLevel == 0
            ? lowRes
            : _schedule.AddNoise(lowRes, Noise.PerRow(seeds.Select(s => s ^ 0xA5A5A5A5UL).ToList(), lowRes.shape[1..], Device), sampling.AugmentationLevel);
        var levels = full(new long[] { seeds.Count }, sampling.AugmentationLevel, int64, Device);
        return new UNetConditioning(text, imageEmbedding, augmented.to(_dtype), levels);
    }

    Tensor Network(Tensor x, int t, UNetConditioning c) =>
        _unet.forward(x.to(_dtype), full(new long[] { x.shape[0] }, t, int64, Device), c).to(ScalarType.Float32);

    /// The network's raw output for x at timestep t, in windows when the stage has a tiling.
    Tensor Forward(Tensor x, int t, UNetConditioning c) => Tiling is null
        ? Network(x, t, c)
        : SampleWindows.Forward((window, part) => Network(window, t, part), x, c, Tiling);

    Denoiser Denoiser(UNetConditioning conditioning, double guidance, int batch)
    {
        if (guidance == 1) return (x, t) => Forward(x, t, conditioning);
        // [conditional rows; rows to be dropped], for one guided forward pass.
        var doubled = conditioning.Repeat(2) with { DropConditioning = cat(new[] { zeros(batch, dtype: @bool), ones(batch, dtype: @bool) }).to(Device) };
        return ClassifierFreeGuidance.Guide((x, t) => Forward(x, t, doubled), guidance, 3);
    }
}
