using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Weights;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

/// The cascade as data: model_index.json lists the stages, and the pipeline walks what it lists.
public class CascadeDefinitionTests
{
    static readonly IReadOnlyList<StageDescriptor> Shapes = CascadeFolder.ShapesCascadeStages;

    [Fact]
    public void A_size_runs_the_stages_up_to_the_image_stage_that_makes_it()
    {
        var cascade = new CascadeDefinition(Shapes);

        Assert.Equal([64, 256, 1024], cascade.Sizes);
        Assert.Equal([CascadeStage.Text, CascadeStage.Prior, CascadeStage.Decoder64], cascade.For(64).Select(s => s.Stage));
        Assert.Equal(CascadeStages.All, cascade.For(1024).Select(s => s.Stage));
        Assert.Contains("size 512 is not supported; choose 64, 256, 1024", Assert.Throws<ArgumentException>(() => cascade.For(512)).Message);
    }

    [Theory]
    [InlineData("prior-first", "a cascade runs a text stage, a prior, then one or more image stages; this one lists prior, text")]
    [InlineData("shrinking", "image stage sr256 makes 32 px after decoder64's 64 px; each image stage must enlarge")]
    [InlineData("twice", "stage decoder64 is listed twice")]
    [InlineData("no-size", "image stage decoder64 has size 0")]
    public void A_list_that_cannot_be_walked_is_refused_naming_the_problem(string which, string expected)
    {
        IReadOnlyList<StageDescriptor> stages = which switch
        {
            "prior-first" => [Shapes[1], Shapes[0], Shapes[2]],
            "shrinking" => [Shapes[0], Shapes[1], Shapes[2], Shapes[3] with { Size = 32 }],
            "twice" => [Shapes[0], Shapes[1], Shapes[2], Shapes[2] with { Size = 128 }],
            _ => [Shapes[0], Shapes[1], Shapes[2] with { Size = 0 }],
        };

        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => new CascadeDefinition(stages)).Message);
    }

    [Fact]
    public void The_index_round_trips_its_stages_and_a_folder_without_them_is_refused()
    {
        var folder = Directory.CreateTempSubdirectory("dc-index-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "decoder64"));
            new ModelIndex("ShapesCascade", new Dictionary<string, string> { ["decoder64"] = "UNet" }).Write(folder);
            var error = Assert.Throws<ModelFormatException>(() => CascadeFolder.Definition(folder));
            Assert.Contains("lists no _stages", error.Message);

            (ModelIndex.Read(folder) with { Stages = Shapes }).Write(folder);
            Assert.Equal(Shapes, ModelIndex.Read(folder).Stages);
            // Stages whose components the index does not list cannot run.
            Assert.Contains("stage text runs component text_encoder, which the index does not list",
                Assert.Throws<ModelFormatException>(() => CascadeFolder.Definition(folder)).Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_folder_that_lists_other_stages_is_walked_as_listed()
    {
        // The tiny cascade without sr256: decoder64's 64 px image goes straight to sr1024, with no code change.
        var folder = Directory.CreateTempSubdirectory("dc-two-image-stages-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(TinyCascadeFolder.Path, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(folder, Path.GetRelativePath(TinyCascadeFolder.Path, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
            var index = ModelIndex.Read(folder);
            (index with { Stages = index.Stages.Where(s => s.Stage != CascadeStage.Sr256).ToList() }).Write(folder);
            var cascade = new CascadePipeline(folder, CPU);

            var quick = new SamplingOptions(Steps: 2);
            var (image, timings, _) = cascade.Generate(new GenerationSpec { Prompt = "a red circle", Size = 1024, Prior = quick, Decoder64 = quick, Sr1024 = quick });

            using (image)
                Assert.Equal(new long[] { 1, 3, 1024, 1024 }, image.shape);
            Assert.Equal(["text", "prior", "decoder64", "sr1024"], timings.Select(t => t.Stage));
            Assert.Contains("choose 64, 1024", Assert.Throws<ArgumentException>(() => cascade.Generate(new GenerationSpec { Prompt = "a red circle", Size = 256 })).Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
