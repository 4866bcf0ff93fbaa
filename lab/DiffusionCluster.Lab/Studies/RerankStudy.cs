using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;

namespace DiffusionCluster.Lab.Studies;

/// Would best-of-N by CLIP make prompts fully correct? DALL-E reranked its samples by CLIP, and DALL-E 2's prior keeps
/// the closer of two z_i; here each prompt is generated N times at 64 px (prior and decoder, candidate c from
/// CandidateSeed(prompt id, c), so candidate 0 is `eval`'s picture), and every picture is scored by the scene parser
/// and by CLIP (cosine of its image embedding with the caption's text embedding). For k = 1, 2, 4, ..., N: the share
/// of prompts whose CLIP pick among the first k candidates is fully correct, beside the share with any of the first
/// k fully correct (what a perfect reranker would get).
public sealed class RerankStudy(CascadePipeline pipeline, ImageEncoder clipImage, TextWriter log)
{
    /// Each candidate costs a prior and a decoder sample.
    public const int MaxCandidates = 64;

    public sealed record Candidate(bool FullyCorrect, double Clip);

    /// Candidate c's seed: candidate 0 keeps the prompt's seed. The step lands in the low 32 bits, the only ones
    /// libtorch's CPU generator uses.
    public static ulong CandidateSeed(ulong seed, int candidate) => seed + (ulong)candidate * 1_000_003;

    public StudyReport Run(IReadOnlyList<BenchPrompt> prompts, int candidates, GenerationSpec sampling, string command, int batchSize = 10)
    {
        using var _ = no_grad();
        var scored = prompts.Select(_ => new List<Candidate>()).ToList();
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            var batch = prompts.Skip(start).Take(batchSize).ToList();
            using var text = pipeline.Text.Encode(batch.Select(p => p.Prompt).ToList());
            for (int c = 0; c < candidates; c++)
            {
                using var scope = NewDisposeScope();
                var seeds = batch.Select(p => CandidateSeed((ulong)p.Id, c)).ToList();
                var embedding = pipeline.Prior.Sample(text, seeds, sampling.Prior);
                var images = pipeline.Decoder.Sample(text, embedding, null, seeds, sampling.Decoder64);
                var clip = ClipSpace.Cosine(clipImage.forward(images), text.Pooled).cpu().data<float>().ToArray();
                for (int i = 0; i < batch.Count; i++)
                {
                    bool correct = CaptionScore.Of(batch[i].Caption, SceneParser.Parse(images[i])).FullyCorrect;
                    scored[start + i].Add(new Candidate(correct, clip[i]));
                }
            }
            log.WriteLine($"rerank: {Math.Min(start + batchSize, prompts.Count)}/{prompts.Count} prompts, {candidates} candidates each");
        }
        var report = new StudyReport("Best-of-N by CLIP reranking", command);
        report.Add(Tabulate(prompts.Select(p => p.Scene.Objects.Count).ToList(), scored));
        report.Figure("candidates", scored.Select((s, i) => new { prompts[i].Id, Objects = prompts[i].Scene.Objects.Count, Candidates = s }).ToList());
        return report;
    }

    /// The table of Run from each prompt's object count and its candidates' scores, in candidate order.
    public static StudyTable Tabulate(IReadOnlyList<int> objectCounts, IReadOnlyList<IReadOnlyList<Candidate>> scored)
    {
        int candidates = scored[0].Count;
        var groups = objectCounts.Select((count, i) => (count, i)).GroupBy(x => x.count).OrderBy(g => g.Key)
            .Select(g => (Name: g.Key == 1 ? "1 object" : $"{g.Key} objects", Rows: g.Select(x => x.i).ToList()))
            .Append((Name: "all", Rows: Enumerable.Range(0, scored.Count).ToList())).ToList();
        var ks = Enumerable.Range(0, 31).Select(e => 1 << e).TakeWhile(k => k < candidates).Append(candidates).ToList();
        string Share(List<int> rows, Func<IReadOnlyList<Candidate>, bool> holds) => StudyReport.Percent(rows.Count(r => holds(scored[r])), rows.Count);
        var rows = ks.Select(k => (IReadOnlyList<string>)new[] { k.ToString() }
            .Concat(groups.Select(g => Share(g.Rows, s => s.Take(k).MaxBy(x => x.Clip)!.FullyCorrect)))
            .Concat(groups.Select(g => Share(g.Rows, s => s.Take(k).Any(x => x.FullyCorrect)))).ToList()).ToList();
        var columns = new[] { "candidates k" }.Concat(groups.Select(g => $"CLIP pick, {g.Name}")).Concat(groups.Select(g => $"any of k, {g.Name}")).ToList();

        var all = scored.SelectMany(s => s).ToList();
        string MeanClip(bool correct) => all.Where(x => x.FullyCorrect == correct).Select(x => x.Clip * 100).DefaultIfEmpty(double.NaN).Average().ToString("F2");
        string note = $"Fully correct prompts. One draw: {StudyReport.Percent(all.Count(x => x.FullyCorrect), all.Count)} of all pictures. " +
            $"Mean CLIP score (100 x cosine) of fully correct pictures {MeanClip(true)}, of the others {MeanClip(false)}.";
        return new StudyTable($"Fully correct at 64 px, {scored.Count} prompts, {candidates} candidates each", columns, rows, note);
    }
}
