using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Imaging;
using DiffusionCluster.Models.Weights;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

/// The cascade shipped in models/shapes-cascade: it loads, matches the code's default sizes, and generates.
public class BundledCascadeTests
{
    static string ModelFolder() => Path.Combine(DiffusionCluster.Tests.Shared.RepositoryRoot.Path, "models", "shapes-cascade");

    [Fact]
    public void Every_bundled_component_loads_with_the_default_sizes()
    {
        var folder = ModelFolder();
        var index = ModelIndex.Read(folder);

        Assert.Equal(CascadeFolder.ClassName, index.ClassName);
        Assert.Equal(CascadeDefaults.TextEncoder, CascadeFolder.LoadTextEncoder(folder).Config);
        Assert.Equal(Json(CascadeDefaults.ImageEncoder), Json(CascadeFolder.LoadImageEncoder(folder).Config));
        Assert.Equal(Json(CascadeDefaults.Prior), Json(CascadeFolder.LoadPrior(folder).Config));
        foreach (var (component, config) in new[] { (CascadeFolder.Decoder64, CascadeDefaults.Decoder64), (CascadeFolder.Sr256, CascadeDefaults.Sr256), (CascadeFolder.Sr1024, CascadeDefaults.Sr1024) })
            Assert.Equal(Json(config), Json(CascadeFolder.LoadUNet(folder, component).Config));
        Assert.Equal(CascadeDefaults.Layout, CascadeFolder.LoadLayout(folder).Config);
    }

    [Fact]
    public void The_bundled_cascade_stays_under_60_megabytes()
    {
        long bytes = Directory.EnumerateFiles(ModelFolder(), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

        Assert.True(bytes < 60L * 1024 * 1024, $"{bytes / 1048576.0:F1} MB");
    }

    [Fact]
    public void Generate_writes_a_decodable_png_of_the_requested_size()
    {
        var pipeline = new CascadePipeline(ModelFolder(), CPU);
        var request = new GenerationSpec
        {
            Prompt = "a large red circle in the center on a white background",
            Size = 256,
            Seed = 7,
            Prior = new SamplingOptions { Steps = 5 },
            Decoder64 = new SamplingOptions { Steps = 5 },
            Sr256 = new SamplingOptions { Steps = 3 },
        };

        var (image, timings, _) = pipeline.Generate(request);
        using (image)
        {
            using var decoded = Png.Decode(Png.Encode(image));
            Assert.Equal(new long[] { 3, 256, 256 }, decoded.shape);
        }
        Assert.Equal(["text", "prior", "decoder64", "sr256"], timings.Select(t => t.Stage));
    }

    [Theory]
    [InlineData(512)]
    [InlineData(0)]
    public void An_unsupported_size_names_the_choices(int size)
    {
        var pipeline = new CascadePipeline(ModelFolder(), CPU);

        var error = Assert.Throws<ArgumentException>(() => pipeline.Generate(new GenerationSpec { Prompt = "a red circle", Size = size }));

        Assert.Equal($"size {size} is not supported; choose 64, 256, 1024", error.Message);
    }

    [Fact]
    public void A_prompt_asking_for_more_objects_than_the_world_holds_is_refused_before_any_stage_runs()
    {
        var pipeline = new CascadePipeline(ModelFolder(), CPU);
        var prompt = string.Join(", ", Enumerable.Repeat("a red circle", 5));

        var error = Assert.Throws<ArgumentException>(() => pipeline.Generate(new GenerationSpec { Prompt = prompt }));

        Assert.Equal("the prompt asks for 5 objects; this model draws at most 3", error.Message);
    }

    [Fact]
    public void A_bad_late_stage_option_is_refused_before_the_early_stages_run()
    {
        var pipeline = new CascadePipeline(ModelFolder(), CPU);
        var stagesRun = new List<string>();

        var error = Assert.Throws<ArgumentException>(() => pipeline.Generate(
            new GenerationSpec { Prompt = "a red circle", Size = 1024, Sr1024 = new SamplingOptions { Guidance = -1 } },
            (stage, _, _) => stagesRun.Add(stage)));

        Assert.Equal("sr1024: guidance = -1; allowed 0 to 50", error.Message);
        Assert.Empty(stagesRun);
    }

    /// The end-to-end check: the bundled cascade, default sampling, draws an easy prompt (a pair from
    /// shapebench/easy.jsonl that far weaker decoders already drew right) that the scene parser scores fully correct.
    /// It guards the cascade and its sampling against regressions; the figures are in docs/MODEL_CARD.md.
    [Fact]
    public void Generate_draws_an_easy_prompt_the_scene_parser_scores_fully_correct()
    {
        var pipeline = new CascadePipeline(ModelFolder(), CPU);
        var caption = new Caption("a large blue circle in the center on a white background",
            new Scene("white", [new SceneObject(ShapeKind.Circle, "blue", SizeClass.Large, Position.Center)]), null);

        var (image, _, _) = pipeline.Generate(new GenerationSpec { Prompt = caption.Text, Size = 64, Seed = 1021 });

        using (image)
        {
            var parsed = SceneParser.Parse(image[0]);
            var score = CaptionScore.Of(caption, parsed);
            Assert.True(score.FullyCorrect, $"parsed {string.Join("; ", parsed.Objects)}");
        }
    }

    /// Evaluation and training draw the cascade's 64 px pictures in batches; each row must be the picture a request for
    /// its caption and seed gets.
    [Fact]
    public void SampleBases_draws_each_row_as_a_request_draws_it()
    {
        var pipeline = new CascadePipeline(ModelFolder(), CPU);
        var requests = new[]
        {
            new GenerationSpec { Prompt = "a small red square in the top left corner on a white background", Size = 64, Seed = 3 },
            new GenerationSpec { Prompt = "a green ring", Size = 64, Seed = 8 },
        };
        var drawn = requests.Select(r => pipeline.Generate(r)).ToList();

        using var bases = pipeline.SampleBases(drawn.Select(d => d.Prompt.Caption).ToList(), requests.Select(r => r.Seed).ToList(),
            requests[0].SamplingFor(CascadeStage.Prior), requests[0].SamplingFor(CascadeStage.Decoder64));

        Assert.Equal(new long[] { 2, 3, 64, 64 }, bases.shape);
        for (int i = 0; i < requests.Length; i++)
            using (var image = drawn[i].Image)
                Assert.True(bases[i].allclose(image[0], rtol: 0, atol: 1e-3), $"row {i} differs from the request's picture by {(bases[i] - image[0]).abs().max().item<float>()}");
    }

    /// Prompts as people write them, drawn through the composer at the seeds the natural ShapeBench run drew them
    /// (docs/shapebench-natural, ids 80 and 102): a relation whose places the prompt leaves open, and a count with a
    /// repeated colour. Each picture must have exactly what the prompt asks.
    [Theory]
    [InlineData("a circle above a diamond", 80)]
    [InlineData("two pink hexagons", 102)]
    public void Generate_draws_a_prompt_as_people_write_it_through_the_composer(string prompt, int seed)
    {
        var pipeline = new CascadePipeline(ModelFolder(), CPU);

        var (image, _, composed) = pipeline.Generate(new GenerationSpec { Prompt = prompt, Size = 64, Seed = (ulong)seed });

        using (image)
        {
            var parsed = SceneParser.Parse(image[0]);
            Assert.True(RequestScore.Of(PromptReader.Read(prompt), parsed).FullyCorrect, $"drawn from {composed.Caption}; parsed {string.Join("; ", parsed.Objects)}");
        }
    }

    /// The same for two objects, which needs the layout model (without it 7.5% of two-object dev prompts are right,
    /// with it and the composer 87.5%): dev prompt 47 and its seed, right in the bundled ShapeBench run (docs/shapebench).
    [Fact]
    public void Generate_places_two_objects_by_the_bundled_layout_model()
    {
        var pipeline = new CascadePipeline(ModelFolder(), CPU);
        var prompt = BenchPrompt.Read(Path.Combine(DiffusionCluster.Tests.Shared.RepositoryRoot.Path, "shapebench", "dev.jsonl")).Single(p => p.Id == 47);
        Assert.Equal(2, prompt.Scene.Objects.Count);

        var (image, _, _) = pipeline.Generate(new GenerationSpec { Prompt = prompt.Prompt, Size = 64, Seed = 47 });

        using (image)
        {
            var parsed = SceneParser.Parse(image[0]);
            Assert.True(CaptionScore.Of(prompt.Caption, parsed).FullyCorrect, $"parsed {string.Join("; ", parsed.Objects)}");
        }
    }

    [Fact]
    public void The_bundled_sr256_follows_its_input()
    {
        // The bundled sr256 measures 43.9 dB on 12 dev scenes (`eval --sr-only`), bicubic 36.7 dB; an SR stage that
        // ignored its input would be near 15 dB. Two scenes, default sampling.
        double psnr = MeasureBundledSuperResolution(images256: 2, images1024: 0)[0].Psnr;
        Assert.True(psnr > 33, $"sr256 PSNR {psnr:F2} dB against the exact 256 px renders");
    }

    [Fact]
    public void The_bundled_sr1024_follows_its_input()
    {
        // The bundled sr1024 measures 45.8 dB on 3 dev scenes (`eval --sr-only`), bicubic 43.3 dB; an SR stage that
        // ignored its input would be near 8 dB. One scene, default sampling.
        double psnr = MeasureBundledSuperResolution(images256: 0, images1024: 1)[1].Psnr;
        Assert.True(psnr > 38, $"sr1024 PSNR {psnr:F2} dB against the exact 1024 px render");
    }

    /// The SR stages on exact renders of the first dev scenes, measured as `eval --sr-only` measures them.
    static IReadOnlyList<Evaluation.SuperResolutionQuality> MeasureBundledSuperResolution(int images256, int images1024)
    {
        var folder = ModelFolder();
        var runner = new Evaluation.ShapeBenchRunner(new CascadePipeline(folder, CPU), CascadeFolder.LoadImageEncoder(folder), TextWriter.Null);
        var prompts = Evaluation.BenchPrompt.Read(Path.Combine(DiffusionCluster.Tests.Shared.RepositoryRoot.Path, "shapebench", "dev.jsonl"));
        return runner.MeasureSuperResolution(prompts, new GenerationSpec { Prompt = "" }, images256, images1024);
    }

    static string Json<T>(T config) => System.Text.Json.JsonSerializer.Serialize(config, ConfigJson.Options);
}
