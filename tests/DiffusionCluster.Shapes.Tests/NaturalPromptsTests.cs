using System.Text.Json;
using DiffusionCluster.Shapes;

namespace DiffusionCluster.Shapes.Tests;

public sealed class NaturalPromptsTests
{
    /// Every colour as an object and as a background, repeated colours allowed: what users ask for.
    static readonly World Wide = new([.. Palette.Objects.Select(c => c.Name), "white", "black"], Palette.All.Select(c => c.Name).ToList(), 3, true);

    static readonly List<NaturalPrompt> Prompts = NaturalPrompts.Generate(40, 5, World.Shapes);

    [Fact]
    public void Every_category_is_written()
    {
        Assert.Equal(Enum.GetValues<PromptCategory>(), Prompts.Select(p => p.Category).Distinct());
        Assert.Contains(Prompts, p => p.Request.Objects.Count == 2 && p.Request.Objects[0] == p.Request.Objects[1]);
        Assert.Contains(Prompts, p => p.Request.Relations.Any(r => r.Kind == RelationKind.BelowRightOf));
        Assert.Contains(Prompts, p => p.Request.Objects.Count == 3 && p.Request.Relations.Count == 1);
        Assert.Contains(Prompts, p => p.Request.Objects.Any(o => o.Colour is "white" or "black"));
        Assert.Contains(Prompts, p => p.Request.Background is { } b && Palette.Objects.Any(c => c.Name == b));
        Assert.Contains(Prompts, p => p.Request.Objects.Any(o => o.Texture == Texture.Dots));
    }

    [Fact]
    public void The_prompt_reader_reads_each_prompt_to_what_it_was_written_for()
    {
        foreach (var p in Prompts)
            Assert.Equal(JsonSerializer.Serialize(p.Request with { UnknownWords = [] }), JsonSerializer.Serialize(PromptReader.Read(p.Prompt) with { UnknownWords = [] }));
    }

    /// The parser's accuracy on exact renders of scenes drawn for each prompt (the wide world, so every prompt has
    /// a scene): at least 99% per category, over 40 prompts and 5 seeds each.
    [Fact]
    public void The_scene_parser_scores_renders_of_every_category_correct()
    {
        var composer = new Composer(Wide);
        foreach (var category in Prompts.GroupBy(p => p.Category))
        {
            int right = 0, total = 0;
            var wrong = new List<string>();
            foreach (var p in category)
                for (int seed = 0; seed < 5; seed++)
                {
                    var scene = composer.Compose(p.Prompt, seed).Scene;
                    var parsed = SceneParser.Parse(Renderer.Render(scene, 64), 64, Wide.ObjectColours);
                    total++;
                    if (RequestScore.Of(p.Request, parsed).FullyCorrect) right++;
                    else wrong.Add($"{p.Prompt} -> {scene.Summary} parsed {string.Join("; ", parsed.Objects)} bg {parsed.Background}");
                }
            Assert.True(right >= 0.99 * total, $"{category.Key}: {right}/{total}\n{string.Join("\n", wrong.Take(5))}");
        }
    }
}
