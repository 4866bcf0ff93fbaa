using System.Diagnostics;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using DiffusionCluster.Training.Loop;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// Pictures the cascade drew of training-split scenes, as a super-resolution stage is handed them in use, each with
/// the scene it shows. A stage trained only on exact renders copies its input's errors (the base's texture, soft
/// edges, blotchy fills) and magnifies them; SR3, Imagen and DALL-E 2 train their upsamplers on degraded inputs for
/// that reason, and these are the cascade's own degradations rather than a guess at them. Only pictures the scene
/// parser reads right are kept, so the exact render of the scene is the picture the stage should have made.
///
/// A folder: bases.jsonl (one BenchPrompt per picture: its id, the canonical caption it was drawn from, the scene)
/// and the pictures as id.png, at 64 px (the decoder's) or 256 px (the same through sr256, for sr1024's inputs).
public sealed class GeneratedBases
{
    public const string IndexFile = "bases.jsonl";
    public static readonly int[] Sizes = [64, 256];

    GeneratedBases(string folder, IReadOnlyList<BenchPrompt> entries, IReadOnlyList<Tensor> pictures)
    {
        Folder = folder;
        Entries = entries;
        Pictures = pictures;
        Size = (int)pictures[0].shape[2];
    }

    public string Folder { get; }
    public IReadOnlyList<BenchPrompt> Entries { get; }
    /// [3, Size, Size] in [-1, 1], on the CPU.
    public IReadOnlyList<Tensor> Pictures { get; }
    public int Size { get; }

    public static GeneratedBases Load(string folder)
    {
        var index = Path.Combine(folder, IndexFile);
        if (!File.Exists(index)) throw new FileNotFoundException($"{folder} holds no generated pictures ({IndexFile} is missing); make them with `train bases`");
        var entries = BenchPrompt.Read(index);
        if (entries.Count == 0) throw new ArgumentException($"{index} lists no pictures");
        var pictures = entries.Select(e => Png.Decode(File.ReadAllBytes(PicturePath(folder, e.Id)))).ToList();
        if (pictures.Select(p => (p.shape[1], p.shape[2])).Distinct().Count() != 1 || pictures[0].shape[1] != pictures[0].shape[2])
            throw new ArgumentException($"{folder}: the pictures must all be square and of one size");
        return new GeneratedBases(folder, entries, pictures);
    }

    /// Draws `count` training-split scenes from `seed`, has the cascade draw each from its canonical caption (the
    /// folder's sampling defaults, the scene's index as the seed) up to `size` px, and writes those whose 64 px
    /// picture the scene parser reads right. Returns how many were kept.
    public static int Generate(CascadePipeline pipeline, string folder, int count, int size, int seed, int batchSize, TextWriter log)
    {
        if (!Sizes.Contains(size)) throw new ArgumentException($"generated pictures are {string.Join(" or ", Sizes)} px; got {size}");
        using var _ = no_grad();
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        var kept = new List<BenchPrompt>();
        var defaults = new SamplingOptions();
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var scenes = Enumerable.Range(start, Math.Min(batchSize, count - start)).Select(_ => SceneGenerator.Sample(random.Next(), Split.Train)).ToList();
            var captions = scenes.Select(Captioner.Canonical).ToList();
            var seeds = Enumerable.Range(start, scenes.Count).Select(i => (ulong)i).ToList();
            var pictures = pipeline.SampleBases(captions, seeds, defaults, defaults);
            var right = Enumerable.Range(0, scenes.Count)
                .Where(i => CaptionScore.Of(new Caption(captions[i], scenes[i], null), SceneParser.Parse(pictures[i])).FullyCorrect).ToList();
            if (size == 256 && right.Count > 0)
            {
                var rows = tensor(right.Select(i => (long)i).ToArray()).to(pipeline.Device);
                using var rightText = pipeline.Text.Encode(right.Select(i => captions[i]).ToList());
                var upscaled = pipeline.Sr256.Sample(rightText, null, pictures.index_select(0, rows), right.Select(i => seeds[i]).ToList(), defaults);
                pictures = zeros(scenes.Count, 3, size, size, device: pipeline.Device).index_copy_(0, rows, upscaled);
            }
            foreach (int i in right)
            {
                int id = start + i;
                File.WriteAllBytes(PicturePath(folder, id), Png.Encode(pictures[i]));
                kept.Add(new BenchPrompt(id, captions[i], scenes[i], null));
            }
            // The index after every batch: a run stopped early leaves a usable folder.
            BenchPrompt.Write(Path.Combine(folder, IndexFile), kept);
            log.WriteLine(ProgressLine.Format($"bases: drawn ({kept.Count} kept)", start + scenes.Count, count, clock.Elapsed));
        }
        return kept.Count;
    }

    /// Writes the 64 px pictures of `from` through the model folder's sr256 into `folder`, with the same ids, captions
    /// and scenes (each picture's id is its seed, as `Generate --size 256` seeds it): the 256 px pictures the cascade
    /// makes of exactly those bases. Returns how many were written.
    public static int Enlarge(CascadePipeline pipeline, string from, string folder, int batchSize, TextWriter log)
    {
        var source = Load(from);
        if (source.Size != 64) throw new ArgumentException($"{from} holds {source.Size} px pictures; only 64 px bases are enlarged");
        if (Path.GetFullPath(from) == Path.GetFullPath(folder)) throw new ArgumentException($"the enlarged pictures need a folder of their own, not {from}");
        using var _ = no_grad();
        Directory.CreateDirectory(folder);
        var defaults = new SamplingOptions();
        var clock = Stopwatch.StartNew();
        var written = new List<BenchPrompt>();
        foreach (var batch in source.Entries.Select((entry, i) => (Entry: entry, Picture: source.Pictures[i])).Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            using var text = pipeline.Text.Encode(batch.Select(b => b.Entry.Prompt).ToList());
            var pictures = stack(batch.Select(b => b.Picture).ToArray()).to(pipeline.Device);
            var enlarged = pipeline.Sr256.Sample(text, null, pictures, batch.Select(b => (ulong)b.Entry.Id).ToList(), defaults);
            for (int i = 0; i < batch.Length; i++)
            {
                File.WriteAllBytes(PicturePath(folder, batch[i].Entry.Id), Png.Encode(enlarged[i]));
                written.Add(batch[i].Entry);
            }
            BenchPrompt.Write(Path.Combine(folder, IndexFile), written);
            log.WriteLine(ProgressLine.Format("bases: enlarged", written.Count, source.Entries.Count, clock.Elapsed));
        }
        return written.Count;
    }

    static string PicturePath(string folder, int id) => Path.Combine(folder, $"{id:D6}.png");
}
