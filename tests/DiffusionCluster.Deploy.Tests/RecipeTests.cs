using DiffusionCluster.Tests.Shared;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace DiffusionCluster.Deploy.Tests;

/// The recipe that rebuilds the bundled cascade and the export that is the only way the bundle changes.
public class RecipeTests
{
    static readonly string Bundle = Path.Combine(Repository.Root, "models", "shapes-cascade");
    static readonly string Cli = RepositoryRoot.Cli();

    /// What each `train` target writes into a model folder.
    static readonly Dictionary<string, string[]> Writes = new()
    {
        ["clip"] = ["text_encoder", "image_encoder"],
        ["noisy-clip"] = ["image_encoder_noisy"],
        ["prior"] = ["prior"],
        ["layout"] = ["layout"],
        ["decoder64"] = ["decoder64"],
        ["sr256"] = ["sr256"],
        ["sr1024"] = ["sr1024"],
        ["attributes"] = ["attributes"],
        ["segmentation"] = ["segmentation"],
    };

    [Fact]
    public void The_recipe_makes_every_component_of_the_bundle_and_trains_clip_first()
    {
        var recipe = File.ReadAllText(Path.Combine(Repository.Root, "recipes", "shapes-cascade.sh"));
        var trained = Regex.Matches(recipe, @"^\s*(?:train|""\$\{cli\[@\]\}"" train) ([a-z0-9-]+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        var made = trained.SelectMany(t => Writes.TryGetValue(t, out var c) ? c : throw new Xunit.Sdk.XunitException($"the recipe trains unknown target {t}")).ToHashSet();
        if (recipe.Contains("composer/config.json")) made.Add("composer");

        var bundled = JsonDocument.Parse(File.ReadAllText(Path.Combine(Bundle, "model_index.json"))).RootElement
            .EnumerateObject().Select(p => p.Name).Where(n => !n.StartsWith('_')).ToHashSet();
        Assert.Equal(bundled.Order(), made.Order());
        Assert.Equal("clip", trained[0]);
        Assert.Contains("sampling.json", recipe);
    }

    [Fact]
    public void Export_copies_the_named_components_and_records_them_and_refuses_an_unknown_one()
    {
        var target = Directory.CreateTempSubdirectory("dc-export-").FullName;
        try
        {
            var (code, output) = Repository.Run("dotnet", $"{Cli} export --from {Bundle} --to {target} --components prior,composer --defaults");
            Assert.True(code == 0, output);
            foreach (var file in new[] { "prior/model.safetensors", "prior/config.json", "composer/config.json", "sampling.json" })
                Assert.Equal(File.ReadAllBytes(Path.Combine(Bundle, file)), File.ReadAllBytes(Path.Combine(target, file)));
            var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "model_index.json"))).RootElement;
            Assert.Equal(["_class_name", "_stages", "composer", "prior"], index.EnumerateObject().Select(p => p.Name).Order());

            var (refused, message) = Repository.Run("dotnet", $"{Cli} export --from {Bundle} --to {target} --components decoder");
            Assert.Equal(1, refused);
            Assert.Contains("has no component \"decoder\"", message);
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }
}
