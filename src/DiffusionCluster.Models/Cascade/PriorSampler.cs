using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

/// Stage 2: text -> CLIP image embedding z_i with the diffusion prior and classifier-free guidance. As in
/// DALL-E 2 it draws two candidates per prompt and keeps the one closer to the text embedding.
public sealed class PriorSampler
{
    const int Candidates = 2;
    readonly DiffusionPrior _prior;
    readonly NoiseSchedule _schedule;

    readonly ScalarType _dtype;

    public PriorSampler(string modelFolder, Device device, ScalarType dtype = ScalarType.Float32)
    {
        _prior = CascadeFolder.LoadPrior(modelFolder, device);
        _prior.to(dtype);
        _dtype = dtype;
        _schedule = _prior.Config.Diffusion.BuildSchedule();
        Device = device;
        Defaults = SamplingDefaults.Load(modelFolder).For(CascadeFolder.Prior);
    }

    /// The prior's sampling defaults, from the model folder's sampling.json.
    public SamplingOptions Defaults { get; }

    /// Checks the options against the prior's schedule.
    public void Validate(SamplingOptions options) => _ = ResolvedSampling.Of(options, Defaults, CascadeFolder.Prior, _schedule);

    public Device Device { get; }
    public int TrainTimesteps => _schedule.Length;

    /// Returns normalised z_i [B, E]; seeds give each row its own starting noise.
    public Tensor Sample(TextEncoding text, IReadOnlyList<ulong> seeds, SamplingOptions options, StepProgress? progress = null, CancellationToken cancellation = default)
    {
        var sampling = ResolvedSampling.Of(options, Defaults, CascadeFolder.Prior, _schedule);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        int batch = seeds.Count;
        long dim = _prior.Config.EmbedDim;
        // Rows: candidate c of prompt b at c * batch + b.
        var noise = cat(Enumerable.Range(0, Candidates)
            .Select(c => Noise.PerRow(seeds.Select(s => s * 2 + (ulong)c).ToList(), new[] { dim }, Device)).ToArray());
        var repeated = text.Repeat(Candidates).To(_dtype);
        var doubled = repeated.Repeat(2);
        var drop = cat(new[] { zeros(batch * Candidates, dtype: @bool), ones(batch * Candidates, dtype: @bool) }).to(Device);
        // The sampler works on [N, C, H, W]; the prior's embeddings travel as [N, E, 1, 1].
        Tensor Prior(Tensor x, int t, TextEncoding conditioning, Tensor? dropRows) =>
            _prior.forward(x.flatten(1).to(_dtype), full(new[] { x.shape[0] }, t, int64, Device), conditioning, dropRows)
                .to(ScalarType.Float32).unsqueeze(-1).unsqueeze(-1);
        Denoiser model = sampling.Guidance == 1
            ? (x, t) => Prior(x, t, repeated, null)
            : ClassifierFreeGuidance.Guide((x, t) => Prior(x, t, doubled, drop), sampling.Guidance, dim);
        // The estimates are candidate embeddings, not images: the progress hears the steps only.
        var sampler = new SamplerOptions
        {
            Prediction = _prior.Config.Diffusion.Prediction,
            Progress = progress is null ? null : (done, total, _) => progress(done, total, null),
        };
        var samples = Sampler.Sample(model, noise.unsqueeze(-1).unsqueeze(-1), sampling.Scheduler(_schedule), sampler, cancellation).flatten(1);
        // Keep the candidate with the larger z_i . z_t per prompt.
        var scores = ClipSpace.Cosine(samples, cat(Enumerable.Repeat(text.Pooled, Candidates).ToArray())).view(Candidates, batch);
        var best = scores.argmax(0);
        var chosen = samples.view(Candidates, batch, dim)[best, arange(batch, device: Device)];
        return ClipSpace.Normalise(chosen).MoveToOuterDisposeScope();
    }
}

/// Starting noise drawn per row from that row's own seed, so a request's image does not depend on what it
/// was batched with.
public static class Noise
{
    public static Tensor PerRow(IReadOnlyList<ulong> seeds, long[] shape, Device device)
    {
        using var scope = NewDisposeScope();
        var rows = new List<Tensor>();
        foreach (var seed in seeds)
        {
            using var generator = new Generator(seed);
            rows.Add(randn(shape, generator: generator));
        }
        return stack(rows.ToArray()).to(device).MoveToOuterDisposeScope();
    }
}
