using DiffusionCluster.Shapes;

namespace DiffusionCluster.Shapes.Tests;

public sealed class ComposerTests
{
    static readonly Composer Composer = new(World.Shapes);

    [Theory]
    [InlineData("a red circle")]
    [InlineData("a star above a circle")]
    [InlineData("a blue circle to the left of a red square")]
    [InlineData("a star below and to the right of a circle")]
    [InlineData("a red circle, a green square and a blue triangle")]
    [InlineData("three small stars")]
    [InlineData("a red circle above a blue square and a green star to the left of the square")]
    [InlineData("a large red star in the center on a white background")]
    public void Every_seed_draws_a_scene_the_prompt_describes(string prompt)
    {
        var request = Composer.Check(prompt);
        for (int seed = 0; seed < 50; seed++)
        {
            var composition = Composer.Compose(prompt, seed);
            composition.Scene.Validate();
            Assert.True(request.Accepts(composition.Scene), $"seed {seed}: {composition.Scene.Summary}");
        }
    }

    [Fact]
    public void The_caption_names_everything_and_reads_back_as_the_scene()
    {
        var composition = Composer.Compose("a star above a circle", 3);
        var read = PromptReader.Read(composition.Caption);
        Assert.Equal(composition.Scene.Background, read.Background);
        Assert.All(read.Objects, o => Assert.True(o.Size is not null && o.Colour is not null && o.Position is not null, composition.Caption));
        Assert.True(read.Accepts(composition.Scene));
    }

    [Fact]
    public void A_seed_always_draws_the_same_scene_and_seeds_draw_different_arrangements()
    {
        Assert.Equal(Composer.Compose("a red circle", 7).Caption, Composer.Compose("a red circle", 7).Caption);
        var places = Enumerable.Range(0, 8).Select(s => Composer.Compose("a red circle", s).Scene.Objects[0].Position).Distinct().Count();
        Assert.True(places >= 4, $"{places} distinct places in 8 seeds");
    }

    [Fact]
    public void Naming_another_colour_keeps_the_drawn_places_and_sizes()
    {
        var red = Composer.Compose("a red circle above a star", 11).Scene;
        var blue = Composer.Compose("a blue circle above a star", 11).Scene;
        Assert.Equal(red.Objects.Select(o => (o.Position, o.Size)), blue.Objects.Select(o => (o.Position, o.Size)));
    }

    static readonly Scene Image = new("white", [
        new SceneObject(ShapeKind.Circle, "red", SizeClass.Large, Position.TopLeft),
        new SceneObject(ShapeKind.Star, "blue", SizeClass.Small, Position.BottomRight, Texture.Stripes),
    ]);

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void With_a_reference_what_the_prompt_leaves_unsaid_is_the_image_s_whatever_the_seed(long seed)
    {
        var source = Composer.Compose("a red circle and a star", seed, reference: Image).Scene;
        var target = Composer.Compose("a green circle and a star", seed, reference: Image).Scene;

        Assert.Equal(Image.Summary, source.Summary);
        Assert.Equal((Image with { Objects = [Image.Objects[0] with { Colour = "green" }, Image.Objects[1]] }).Summary, target.Summary);
    }

    [Fact]
    public void With_a_reference_what_the_prompt_names_wins_and_unmatched_objects_are_drawn()
    {
        var scene = Composer.Compose("a small circle in the center and a square on a black background", 3, reference: Image).Scene;

        Assert.Equal("black", scene.Background);
        Assert.Equal((ShapeKind.Circle, "red", SizeClass.Small, Position.Center), (scene.Objects[0].Shape, scene.Objects[0].Colour, scene.Objects[0].Size, scene.Objects[0].Position));
        Assert.True(Composer.Check("a small circle in the center and a square on a black background").Accepts(scene), scene.Summary);
    }

    [Fact]
    public void With_a_reference_a_relation_the_image_breaks_is_still_held()
    {
        var scene = Composer.Compose("a star above a circle", 1, reference: Image).Scene;

        Assert.True(Composer.Check("a star above a circle").Accepts(scene), scene.Summary);
        Assert.Equal(("blue", SizeClass.Small, Texture.Stripes), (scene.Objects[0].Colour, scene.Objects[0].Size, scene.Objects[0].Texture));
    }

    [Fact]
    public void An_unsaid_texture_is_plain_and_a_named_one_is_kept()
    {
        Assert.Equal(Texture.Plain, Composer.Compose("a red circle", 1).Scene.Objects[0].Texture);
        Assert.Equal(Texture.Stripes, Composer.Compose("a striped red circle", 1).Scene.Objects[0].Texture);
    }

    [Theory]
    [InlineData("a fluffy red circle", "\"fluffy\";")]
    [InlineData("a red cirle above a grren sqaure", "\"cirle\" (did you mean \"circle\"?), \"grren\" (did you mean \"green\"?), \"sqaure\" (did you mean \"square\"?)")]
    [InlineData("four circles", "at most 3")]
    [InlineData("a white circle on a blue background", "a white object is not among them")]
    [InlineData("a red circle on a red background", "a red background is not among them")]
    [InlineData("two green circles", "a colour of its own")]
    [InlineData("a red circle in the center and a blue star in the center", "same cell")]
    [InlineData("a red circle above a blue star and the star above the circle", "no arrangement")]
    public void Prompts_the_world_cannot_draw_are_refused_by_name(string prompt, string message) =>
        Assert.Contains(message, Assert.ThrowsAny<ArgumentException>(() => Composer.Compose(prompt, 0)).Message);

    [Fact]
    public void Unknown_words_can_be_ignored_and_are_then_reported()
    {
        var composition = Composer.Compose("a fluffy red circle", 0, ignoreUnknownWords: true);
        Assert.Equal(["fluffy"], composition.IgnoredWords);
        Assert.Equal("red", composition.Scene.Objects[0].Colour);
    }

    [Fact]
    public void A_wider_world_draws_repeated_colours_white_objects_and_coloured_backgrounds()
    {
        var wide = new Composer(new World([.. Palette.Objects.Select(c => c.Name), "white", "black"], Palette.All.Select(c => c.Name).ToList(), 3, true));
        var scene = wide.Compose("two green circles", 0).Scene;
        Assert.All(scene.Objects, o => Assert.Equal("green", o.Colour));
        var white = wide.Compose("a white circle on a blue background", 0).Scene;
        Assert.Equal(("white", "blue"), (white.Objects[0].Colour, white.Background));
        Assert.Contains("would not show", Assert.Throws<ArgumentException>(() => wide.Compose("a red circle on a red background", 0)).Message);
    }
}
