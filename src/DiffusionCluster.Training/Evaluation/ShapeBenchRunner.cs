using DiffusionCluster.Abstractions;
using System.Diagnostics;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Training.Evaluation;

/// Runs ShapeBench: generates every prompt at 64 px with the cascade's own stages (batched), scores the
/// pictures with the scene parser and with CLIP, measures the SR stages against exact renders, and keeps
/// the pictures for a grid a person can look at.
public sealed class ShapeBenchRunner(CascadePipeline pipeline, ImageEncoder clipImage, TextWriter log)
{
    /// OraclePrior: condition the decoder on CLIP's embedding of the exact render instead of the prior's sample,
    /// which measures the decoder alone (an upper bound for the cascade at this decoder).
    /// LikenessImages: how many of the first prompts run through the SR stages for the image-quality report (those
    /// whose 64 px base is right are measured).
    public sealed record Options(int BatchSize = 10, int GridRows = 6, int SrImages256 = 12, int SrImages1024 = 3, bool RunSuperResolution = true, bool OraclePrior = false,
        int LikenessImages = 20);

    public (ShapeBenchReport Report, Tensor Grid) Run(string promptFile, IReadOnlyList<BenchPrompt> prompts, GenerationSpec sampling, Options options)
    {
        using var _ = no_grad();
        var device = pipeline.Device;
        var generated = new List<Tensor>();
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < prompts.Count; start += options.BatchSize)
        {
            var batch = prompts.Skip(start).Take(options.BatchSize).ToList();
            var seeds = batch.Select(p => (ulong)p.Id).ToList();
            var captions = batch.Select(Caption).ToList();
            using var images = options.OraclePrior
                ? DrawWithOraclePrior(batch, captions, seeds, sampling.Decoder64)
                : pipeline.SampleBases(captions, seeds, sampling.Prior, sampling.Decoder64);
            generated.AddRange(images.unbind(0).Select(i => i.clone().DetachFromDisposeScope()));
            log.WriteLine(ProgressLine.Format("shapebench: generated", Math.Min(start + options.BatchSize, prompts.Count), prompts.Count, clock.Elapsed));
        }
        double secondsPerImage = clock.Elapsed.TotalSeconds / prompts.Count;

        using var scope = NewDisposeScope();
        var renders = Renderer.RenderBatch(prompts.Select(p => p.Scene).ToList(), 64).to(device);
        var generatedBatch = stack(generated.ToArray());
        using var text = pipeline.Text.Encode(prompts.Select(Caption).ToList());
        var generatedEmbedding = clipImage.forward(generatedBatch);
        var renderEmbedding = clipImage.forward(renders);
        var clipGenerated = ClipSpace.Cosine(generatedEmbedding, text.Pooled) * 100;
        var clipRenders = ClipSpace.Cosine(renderEmbedding, text.Pooled) * 100;
        double retrieval = ClipSpace.RetrievalTop1(text.Pooled, renderEmbedding);
        double frechet = FrechetDistance.Compute(F.normalize(generatedEmbedding, dim: -1).cpu(), F.normalize(renderEmbedding, dim: -1).cpu());

        var results = new List<PromptResult>();
        var clipScores = clipGenerated.cpu().data<float>().ToArray();
        for (int i = 0; i < prompts.Count; i++)
        {
            var score = CaptionScore.Of(prompts[i].Caption, SceneParser.Parse(generated[i]));
            results.Add(new PromptResult(prompts[i].Id, prompts[i].Prompt, score.Objects, score.FullyCorrect, score.ColourFound,
                score.ShapeCorrect, score.SizeCorrect, score.PositionCorrect, score.CountCorrect, clipScores[i]));
        }

        var superResolution = new List<SuperResolutionQuality>();
        var likeness = new List<LikenessAtSize>();
        Tensor? up256 = null, up1024 = null;
        int rows = Math.Min(options.GridRows, prompts.Count);
        if (options.RunSuperResolution)
        {
            superResolution.Add(MeasureSr(pipeline.Sr256, prompts.Take(options.SrImages256).ToList(), 64, 256, sampling.Sr256));
            superResolution.Add(MeasureSr(pipeline.Sr1024, prompts.Take(options.SrImages1024).ToList(), 256, 1024, sampling.Sr1024));
            // The grid's cascade column and the quality report: SR of the generated 64 px pictures.
            (up256, up1024, likeness) = Cascade(prompts, generatedBatch, results, Math.Max(rows, Math.Min(options.LikenessImages, prompts.Count)), rows, sampling);
            log.WriteLine("shapebench: super-resolution done");
        }

        var gridImages = new List<Tensor>();
        for (int r = 0; r < rows; r++)
        {
            gridImages.Add(F.interpolate(generatedBatch[r..(r + 1)], new long[] { 256, 256 }, mode: InterpolationMode.Nearest)[0]);
            if (up256 is not null) gridImages.Add(up256[r]);
            if (up1024 is not null) gridImages.Add(F.avg_pool2d(up1024[r..(r + 1)], 4)[0]);
            gridImages.Add(Renderer.RenderTensor(prompts[r].Scene, 256).to(device));
        }
        var grid = Models.Imaging.Png.Grid(gridImages, up256 is null ? 2 : 4);

        var byCount = results.GroupBy(r => r.Objects).OrderBy(g => g.Key)
            .ToDictionary(g => g.Key == 1 ? "1 object" : $"{g.Key} objects", g => ShapeBenchReport.Summarise(g.ToList()));
        var source = options.OraclePrior ? "CLIP embedding of the exact render (oracle prior)" : "diffusion prior";
        double layoutShare = pipeline.Decoder.LayoutShare(sampling.Decoder64);
        if (layoutShare > 0) source += $"; sampling held to the layout model's picture for {layoutShare:0.##} of the trajectory";
        var report = new ShapeBenchReport(promptFile, source, prompts.Count, byCount, ShapeBenchReport.Summarise(results),
            clipScores.Average(), clipRenders.mean().item<float>(), frechet, retrieval, superResolution, secondsPerImage, results, likeness);
        foreach (var t in generated) t.Dispose();
        return (report, grid.MoveToOuterDisposeScope());
    }

    /// What the cascade reads for a prompt, as a request with the prompt's id as its seed would: the folder's composer
    /// writes the caption (for a dev prompt, which names everything, the same scene in the canonical wording).
    /// The decoder conditioned on CLIP's embedding of each prompt's exact render instead of the prior's sample (Options.OraclePrior).
    Tensor DrawWithOraclePrior(IReadOnlyList<BenchPrompt> batch, List<string> captions, List<ulong> seeds, SamplingOptions decoder)
    {
        using var scope = NewDisposeScope();
        using var text = pipeline.Text.Encode(captions);
        var embedding = ClipSpace.Normalise(clipImage.forward(Renderer.RenderBatch(batch.Select(p => p.Scene).ToList(), 64).to(pipeline.Device)));
        return pipeline.Decoder.Sample(text, embedding, null, seeds, decoder).MoveToOuterDisposeScope();
    }

    string Caption(BenchPrompt p) => Caption(pipeline, p);

    /// The caption a bench prompt is drawn from: the composer's, seeded with the prompt's id.
    public static string Caption(CascadePipeline pipeline, BenchPrompt p) => pipeline.Text.Compose(p.Prompt, (ulong)p.Id).Caption;

    /// The first `count` prompts' 64 px pictures through both SR stages, one image at a time (a 1024 px batch would
    /// hold several hundred MB of activations per row): the first `rows` at 256 and 1024 px for the grid, and
    /// RenderLikeness at each size for those whose 64 px base is right.
    (Tensor Up256, Tensor Up1024, List<LikenessAtSize> Likeness) Cascade(IReadOnlyList<BenchPrompt> prompts, Tensor generated, IReadOnlyList<PromptResult> results,
        int count, int rows, GenerationSpec sampling)
    {
        var kept256 = new List<Tensor>();
        var kept1024 = new List<Tensor>();
        var measured = new Dictionary<int, List<RenderLikeness>> { [64] = [], [256] = [], [1024] = [] };
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            using var text = pipeline.Text.Encode([Caption(prompts[i])]);
            ulong seed = (ulong)prompts[i].Id;
            var base64 = generated[i..(i + 1)];
            var up256 = pipeline.Sr256.Sample(text, null, base64, [seed], sampling.Sr256);
            var up1024 = pipeline.Sr1024.Sample(text, null, up256, [seed], sampling.Sr1024);
            if (results[i].FullyCorrect)
                foreach (var (size, image) in new[] { (64, base64), (256, up256), (1024, up1024) })
                    measured[size].Add(RenderLikeness.Measure(image[0], prompts[i].Scene));
            if (i < rows)
            {
                kept256.Add(up256.MoveToOuterDisposeScope());
                kept1024.Add(up1024.MoveToOuterDisposeScope());
            }
        }
        return (cat(kept256.ToArray()), cat(kept1024.ToArray()), measured.Select(m => LikenessAtSize.Of(m.Key, m.Value)).ToList());
    }

    /// The SR stages alone, on exact renders (no generation): what an SR training run is judged by.
    /// sr1024 is measured only when images1024 > 0 (it costs about 10 s an image on two cores).
    public IReadOnlyList<SuperResolutionQuality> MeasureSuperResolution(IReadOnlyList<BenchPrompt> prompts, GenerationSpec sampling, int images256, int images1024)
    {
        using var _ = no_grad();
        var results = new List<SuperResolutionQuality> { MeasureSr(pipeline.Sr256, prompts.Take(images256).ToList(), 64, 256, sampling.Sr256) };
        if (images1024 > 0) results.Add(MeasureSr(pipeline.Sr1024, prompts.Take(images1024).ToList(), 256, 1024, sampling.Sr1024));
        return results;
    }

    /// Each SR stage's one-step clean estimate from the exact high-resolution render noised to each timestep, as
    /// PSNR against that render: a stage that denoises worse than bicubic at some t ruins any sampler that steps there.
    public IReadOnlyList<SuperResolutionDenoising> MeasureDenoising(IReadOnlyList<BenchPrompt> prompts, IReadOnlyList<int> timesteps, int images256, int images1024)
    {
        var results = new List<SuperResolutionDenoising> { MeasureDenoising(pipeline.Sr256, prompts.Take(images256).ToList(), 64, 256, timesteps) };
        if (images1024 > 0) results.Add(MeasureDenoising(pipeline.Sr1024, prompts.Take(images1024).ToList(), 256, 1024, timesteps));
        return results;
    }

    SuperResolutionDenoising MeasureDenoising(ImageSampler stage, IReadOnlyList<BenchPrompt> prompts, int lowSize, int highSize, IReadOnlyList<int> timesteps)
    {
        var psnr = new double[timesteps.Count];
        double bicubicPsnr = 0, meanOfDrawsPsnr = 0;
        int pureNoise = stage.TrainTimesteps - 1;
        foreach (var p in prompts)
        {
            using var scope = NewDisposeScope();
            var (text, low, truth) = SrInputs(p, lowSize, highSize);
            using var _ = text;
            // From pure noise x_t carries nothing, so the estimate should not depend on the draw; how much the mean of
            // several draws' estimates beats one says how much of the error is noise leaking through. (Seeds differ in
            // their low 32 bits: libtorch's CPU generator ignores the rest.) Draw 0 uses the scene's seed, as every
            // timestep's estimate does, so it is also the t = pureNoise column's estimate.
            var draws = Enumerable.Range(0, SuperResolutionDenoising.NoiseDraws)
                .Select(d => stage.EstimateClean(text, null, low, truth, pureNoise, [(ulong)p.Id + (ulong)d * 1_000_003])).ToArray();
            for (int i = 0; i < timesteps.Count; i++)
                psnr[i] += ImageQuality.Psnr(timesteps[i] == pureNoise ? draws[0] : stage.EstimateClean(text, null, low, truth, timesteps[i], [(ulong)p.Id]), truth);
            meanOfDrawsPsnr += ImageQuality.Psnr(stack(draws).mean([0]), truth);
            bicubicPsnr += ImageQuality.Psnr(Upsampling.Bicubic(low, highSize), truth);
        }
        int n = Math.Max(1, prompts.Count);
        return new SuperResolutionDenoising(stage.Name, prompts.Count, timesteps.Zip(psnr, (t, v) => new TimestepPsnr(t, v / n)).ToList(),
            pureNoise, meanOfDrawsPsnr / n, bicubicPsnr / n);
    }

    /// A scene's caption features and its exact renders at the SR stage's input and output sizes, as 1-row batches.
    (TextEncoding Text, Tensor Low, Tensor Truth) SrInputs(BenchPrompt p, int lowSize, int highSize) =>
        (pipeline.Text.Encode([Caption(p)]), Renderer.RenderTensor(p.Scene, lowSize).unsqueeze(0).to(pipeline.Device),
            Renderer.RenderTensor(p.Scene, highSize).unsqueeze(0).to(pipeline.Device));

    SuperResolutionQuality MeasureSr(ImageSampler stage, IReadOnlyList<BenchPrompt> prompts, int lowSize, int highSize, SamplingOptions sampling)
    {
        using var scope = NewDisposeScope();
        double psnr = 0, ssim = 0, bicubicPsnr = 0, bicubicSsim = 0;
        foreach (var p in prompts)
        {
            var (text, low, truth) = SrInputs(p, lowSize, highSize);
            using var _ = text;
            var output = stage.Sample(text, null, low, [(ulong)p.Id], sampling);
            var bicubic = Upsampling.Bicubic(low, highSize);
            psnr += ImageQuality.Psnr(output, truth);
            ssim += ImageQuality.Ssim(output, truth);
            bicubicPsnr += ImageQuality.Psnr(bicubic, truth);
            bicubicSsim += ImageQuality.Ssim(bicubic, truth);
        }
        int n = Math.Max(1, prompts.Count);
        log.WriteLine($"shapebench: {stage.Name} measured on {prompts.Count} images");
        return new SuperResolutionQuality(stage.Name, prompts.Count, psnr / n, ssim / n, bicubicPsnr / n, bicubicSsim / n);
    }
}
