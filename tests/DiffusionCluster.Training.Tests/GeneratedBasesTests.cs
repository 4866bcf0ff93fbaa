using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using DiffusionCluster.Training.Trainers;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

/// The cascade's own pictures as SR training inputs: drawn by the bundled cascade and kept only where the parser
/// reads them right; an SR trainer given them conditions the asked share of rows on windows of them, with the exact
/// render of the same scene's window as the target.
public sealed class GeneratedBasesTests : IDisposable
{
    readonly TinyCascade _cascade = new();
    readonly string _folder = Directory.CreateTempSubdirectory("dc-bases-").FullName;

    public void Dispose()
    {
        _cascade.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    static string Bundled => Path.Combine(DiffusionCluster.Tests.Shared.RepositoryRoot.Path, "models", "shapes-cascade");

    [Theory]
    [InlineData(64)]
    [InlineData(256)]
    public void The_bundled_cascade_draws_pictures_that_are_kept_only_when_read_right(int size)
    {
        int kept = GeneratedBases.Generate(new CascadePipeline(Bundled, CPU), _folder, count: 6, size, seed: 3, batchSize: 3, TextWriter.Null);
        var bases = GeneratedBases.Load(_folder);

        Assert.InRange(kept, 1, 6);
        Assert.Equal(kept, bases.Entries.Count);
        Assert.Equal(size, bases.Size);
        Assert.Equal(kept, Directory.GetFiles(_folder, "*.png").Length);
        foreach (var (entry, picture) in bases.Entries.Zip(bases.Pictures))
        {
            Assert.Equal(Captioner.Canonical(entry.Scene), entry.Prompt);
            using var base64 = size == 64 ? picture.alias() : nn.functional.avg_pool2d(picture.unsqueeze(0), 4)[0];
            Assert.True(CaptionScore.Of(entry.Caption, SceneParser.Parse(base64)).FullyCorrect, $"{entry.Prompt}: kept but not read right");
        }
    }

    [Fact]
    public void An_sr_trainer_conditions_the_generated_share_on_the_pictures_and_targets_their_scenes()
    {
        var bases = WriteBases(64, count: 3);
        var trainer = new SuperResolutionTrainer("sr256", TinyCascade.Sr, lowSize: 64, crop: 64, maxAugmentationLevel: 500, _cascade.Context(false), bases, generatedShare: 1);
        using var generator = new Generator(7);

        var (captions, low, high, generated) = trainer.DrawRows(6, generator);

        Assert.True(generated.all().item<bool>());
        for (int i = 0; i < captions.Count; i++)
        {
            int pick = bases.Entries.ToList().FindIndex(e => e.Prompt == captions[i]);
            Assert.True(pick >= 0, $"row {i}'s caption \"{captions[i]}\" is not a generated picture's");
            var (x, y) = Window(bases.Pictures[pick], low[i]);
            var render = Renderer.RenderTensor(bases.Entries[pick].Scene, 256, 4 * x, 4 * y, 64, 64);
            Assert.True(render.allclose(high[i]), $"row {i}: the target is not the render of the picture's scene at the same window");
        }
    }

    [Fact]
    public void With_flat_targets_a_generated_row_learns_its_own_enlargement_in_its_scenes_colours()
    {
        var bases = WriteBases(64, count: 3);
        var trainer = new SuperResolutionTrainer("sr256", TinyCascade.Sr, lowSize: 64, crop: 64, maxAugmentationLevel: 500, _cascade.Context(false), bases,
            generatedShare: 1, GeneratedTarget.Flat);
        using var generator = new Generator(7);

        var (captions, low, high, _) = trainer.DrawRows(6, generator);

        for (int i = 0; i < captions.Count; i++)
        {
            var scene = bases.Entries.Single(e => e.Prompt == captions[i]).Scene;
            using var expected = FlatTarget.Of(Upsampling.Bicubic(low[i].unsqueeze(0), 64)[0], scene);
            Assert.True(expected.allclose(high[i]), $"row {i}: the target is not the window's enlargement in its scene's colours");
        }
    }

    [Fact]
    public void Without_a_share_the_rows_are_exact_renders()
    {
        var bases = WriteBases(64, count: 3);
        var trainer = new SuperResolutionTrainer("sr256", TinyCascade.Sr, lowSize: 64, crop: 64, maxAugmentationLevel: 500, _cascade.Context(false), bases, generatedShare: 0);
        using var generator = new Generator(7);

        var (captions, low, high, generated) = trainer.DrawRows(4, generator);
        Assert.False(generated.any().item<bool>());

        // The rows' scenes are the batch the trainer draws first from the same generator.
        using var same = new Generator(7);
        var scenes = ShapesBatch.Draw(4, same).Scenes;
        Assert.DoesNotContain(captions, c => bases.Entries.Any(e => e.Prompt == c));
        for (int i = 0; i < scenes.Count; i++)
        {
            var (x, y) = Window(Renderer.RenderTensor(scenes[i], 64), low[i]);
            Assert.True(Renderer.RenderTensor(scenes[i], 256, 4 * x, 4 * y, 64, 64).allclose(high[i]), $"row {i}: the target is not the render's window");
        }
    }

    [Fact]
    public void Pictures_of_another_size_or_a_share_outside_0_to_1_are_refused()
    {
        var bases = WriteBases(256, count: 1);
        var size = Assert.Throws<ArgumentException>(() => new SuperResolutionTrainer("sr256", TinyCascade.Sr, 64, 64, 500, _cascade.Context(false), bases, 0.5));
        Assert.Contains("64 px inputs", size.Message);
        Assert.Contains("256 px", size.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SuperResolutionTrainer("sr256", TinyCascade.Sr, 64, 64, 500, _cascade.Context(false), null, 1.5));
        var missing = Assert.Throws<FileNotFoundException>(() => GeneratedBases.Load(Path.Combine(_folder, "none")));
        Assert.Contains("train bases", missing.Message);
    }

    [Fact]
    public void Enlarging_writes_each_base_through_sr256_under_its_id_and_scene()
    {
        var pipeline = new CascadePipeline(Bundled, CPU);
        GeneratedBases.Generate(pipeline, _folder, count: 6, size: 64, seed: 3, batchSize: 3, TextWriter.Null);
        var bases = GeneratedBases.Load(_folder);
        var into = Path.Combine(_folder, "enlarged");

        int written = GeneratedBases.Enlarge(pipeline, _folder, into, batchSize: 2, TextWriter.Null);
        var enlarged = GeneratedBases.Load(into);

        Assert.Equal(bases.Entries.Count, written);
        Assert.Equal(256, enlarged.Size);
        Assert.Equal(bases.Entries.Select(e => (e.Id, e.Prompt)), enlarged.Entries.Select(e => (e.Id, e.Prompt)));
        for (int i = 0; i < written; i++)
        {
            using var text = pipeline.Text.Encode([bases.Entries[i].Prompt]);
            using var expected = pipeline.Sr256.Sample(text, null, bases.Pictures[i].unsqueeze(0), [(ulong)bases.Entries[i].Id], new SamplingOptions());
            Assert.True((expected[0] - enlarged.Pictures[i]).abs().max().item<float>() <= 2.0 / 255 + 1e-6, $"picture {i} is not sr256's enlargement of its base");
        }
        Assert.Throws<ArgumentException>(() => GeneratedBases.Enlarge(pipeline, into, Path.Combine(_folder, "again"), 2, TextWriter.Null));
    }

    [Fact]
    public void Flat_targets_from_enlarged_pictures_snap_the_enlargement_at_the_rows_window()
    {
        var bases = WriteBases(64, count: 3);
        var enlarged = WriteBases(256, count: 3, Path.Combine(_folder, "enlarged"));
        var trainer = new SuperResolutionTrainer("sr256", TinyCascade.Sr, lowSize: 64, crop: 64, maxAugmentationLevel: 500, _cascade.Context(false), bases,
            generatedShare: 1, GeneratedTarget.Flat, flatFrom: enlarged);
        using var generator = new Generator(7);

        var (captions, low, high, _) = trainer.DrawRows(6, generator);

        for (int i = 0; i < captions.Count; i++)
        {
            int pick = bases.Entries.ToList().FindIndex(e => e.Prompt == captions[i]);
            var (x, y) = Window(bases.Pictures[pick], low[i]);
            using var expected = FlatTarget.Of(enlarged.Pictures[pick][.., (4 * y)..(4 * y + 64), (4 * x)..(4 * x + 64)], bases.Entries[pick].Scene);
            Assert.True(expected.allclose(high[i]), $"row {i}: the target is not the enlarged picture's window in its scene's colours");
        }
    }

    [Fact]
    public void Pictures_to_snap_of_other_scenes_or_size_or_without_flat_targets_are_refused()
    {
        var bases = WriteBases(64, count: 3);
        var fewer = WriteBases(256, count: 2, Path.Combine(_folder, "fewer"));
        var small = WriteBases(64, count: 3, Path.Combine(_folder, "small"));
        var enlarged = WriteBases(256, count: 3, Path.Combine(_folder, "enlarged"));
        SuperResolutionTrainer With(GeneratedBases flatFrom, GeneratedTarget target = GeneratedTarget.Flat) =>
            new("sr256", TinyCascade.Sr, 64, 64, 500, _cascade.Context(false), bases, 0.5, target, flatFrom);

        Assert.Contains("same ids", Assert.Throws<ArgumentException>(() => With(fewer)).Message);
        Assert.Contains("256 px", Assert.Throws<ArgumentException>(() => With(small)).Message);
        Assert.Contains("flat targets", Assert.Throws<ArgumentException>(() => With(enlarged, GeneratedTarget.Render)).Message);
    }

    /// A folder of `count` pictures as `train bases` writes it, each a noised render of a training scene (the
    /// trainer's contract does not depend on who drew them).
    GeneratedBases WriteBases(int size, int count, string? folder = null)
    {
        folder ??= _folder;
        Directory.CreateDirectory(folder);
        var entries = new List<BenchPrompt>();
        for (int id = 0; id < count; id++)
        {
            var scene = SceneGenerator.Sample(100 + id, Split.Train);
            using var picture = (Renderer.RenderTensor(scene, size) + 0.1 * randn(3, size, size)).clamp(-1, 1);
            File.WriteAllBytes(Path.Combine(folder, $"{id:D6}.png"), Png.Encode(picture));
            entries.Add(new BenchPrompt(id, Captioner.Canonical(scene), scene, null));
        }
        BenchPrompt.Write(Path.Combine(folder, GeneratedBases.IndexFile), entries);
        return GeneratedBases.Load(folder);
    }

    /// Where `window` sits inside `picture` (exactly: the trainer slices it).
    static (int X, int Y) Window(Tensor picture, Tensor window)
    {
        int size = (int)picture.shape[2], w = (int)window.shape[2];
        for (int y = 0; y <= size - w; y++)
            for (int x = 0; x <= size - w; x++)
                if (picture[.., y..(y + w), x..(x + w)].eq(window).all().item<bool>()) return (x, y);
        throw new Xunit.Sdk.XunitException("the low-resolution window is not a window of the picture");
    }
}
