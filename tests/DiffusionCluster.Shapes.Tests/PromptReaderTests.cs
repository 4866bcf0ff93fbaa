using DiffusionCluster.Shapes;

namespace DiffusionCluster.Shapes.Tests;

public sealed class PromptReaderTests
{
    [Fact]
    public void A_bare_object_names_only_its_colour_and_shape()
    {
        var request = PromptReader.Read("a red circle");
        var o = Assert.Single(request.Objects);
        Assert.Equal(new ObjectRequest(ShapeKind.Circle, "red"), o);
        Assert.Null(request.Background);
        Assert.Empty(request.Relations);
    }

    [Fact]
    public void Every_attribute_and_place_of_a_dev_set_caption_is_read()
    {
        var request = PromptReader.Read("a large red star in the center on a white background");
        Assert.Equal(new ObjectRequest(ShapeKind.Star, "red", SizeClass.Large, null, Position.Center), Assert.Single(request.Objects));
        Assert.Equal("white", request.Background);
    }

    [Fact]
    public void Counts_and_plurals_make_copies()
    {
        var request = PromptReader.Read("two green circles");
        Assert.Equal(2, request.Objects.Count);
        Assert.All(request.Objects, o => Assert.Equal(new ObjectRequest(ShapeKind.Circle, "green"), o));
        Assert.Equal(3, PromptReader.Read("three small stars").Objects.Count);
        Assert.Equal(2, PromptReader.Read("a pair of blue rings").Objects.Count);
    }

    [Fact]
    public void A_list_names_each_object()
    {
        var request = PromptReader.Read("a red circle, a green square and a blue triangle");
        Assert.Equal([ShapeKind.Circle, ShapeKind.Square, ShapeKind.Triangle], request.Objects.Select(o => o.Shape));
        Assert.Equal(["red", "green", "blue"], request.Objects.Select(o => o.Colour));
    }

    [Theory]
    [InlineData("a star above a circle", RelationKind.Above)]
    [InlineData("a star on top of a circle", RelationKind.Above)]
    [InlineData("a blue circle to the left of a red square", RelationKind.LeftOf)]
    [InlineData("a blue circle right of a red square", RelationKind.RightOf)]
    [InlineData("a ring beneath a cross", RelationKind.Below)]
    [InlineData("a star above and to the left of a circle", RelationKind.AboveLeftOf)]
    [InlineData("a star below and to the right of a circle", RelationKind.BelowRightOf)]
    [InlineData("a star to the upper right of a circle", RelationKind.AboveRightOf)]
    public void Relations_link_the_objects_on_either_side(string prompt, RelationKind kind)
    {
        var request = PromptReader.Read(prompt);
        Assert.Equal(2, request.Objects.Count);
        Assert.Equal(new Relation(0, kind, 1), Assert.Single(request.Relations));
        Assert.All(request.Objects, o => Assert.Null(o.Position));
    }

    [Fact]
    public void The_refers_back_to_an_object_already_named()
    {
        var request = PromptReader.Read("a red circle above a blue square and a green star to the left of the square");
        Assert.Equal(3, request.Objects.Count);
        Assert.Equal([new Relation(0, RelationKind.Above, 1), new Relation(2, RelationKind.LeftOf, 1)], request.Relations);
    }

    [Theory]
    [InlineData("a red star in the top left corner", Position.TopLeft)]
    [InlineData("in the top left corner there is a red star", Position.TopLeft)]
    [InlineData("a red star at the bottom", Position.Bottom)]
    [InlineData("a red star on the right", Position.Right)]
    [InlineData("a red star in the middle", Position.Center)]
    [InlineData("a red star top right", Position.TopRight)]
    [InlineData("a red star in the lower left of the image", Position.BottomLeft)]
    public void A_place_belongs_to_its_object(string prompt, Position place) =>
        Assert.Equal(place, Assert.Single(PromptReader.Read(prompt).Objects).Position);

    [Theory]
    [InlineData("a striped red circle", Texture.Stripes)]
    [InlineData("a polka-dot blue square", Texture.Dots)]
    [InlineData("a plain green star", Texture.Plain)]
    public void Textures_are_read(string prompt, Texture texture) =>
        Assert.Equal(texture, Assert.Single(PromptReader.Read(prompt).Objects).Texture);

    [Theory]
    [InlineData("a white circle on a blue background", "white", "blue")]
    [InlineData("a red square against black", "red", "black")]
    [InlineData("a red square on white", "red", "white")]
    [InlineData("a gray background with a pink ring", "pink", "gray")]
    public void Colours_take_their_role_from_the_words_around_them(string prompt, string objectColour, string background)
    {
        var request = PromptReader.Read(prompt);
        Assert.Equal(objectColour, Assert.Single(request.Objects).Colour);
        Assert.Equal(background, request.Background);
    }

    [Fact]
    public void Unknown_words_are_collected_not_skipped()
    {
        var request = PromptReader.Read("a fluffy red circle next to a square");
        Assert.Equal(["fluffy", "next", "to"], request.Unknown);
        Assert.Equal(2, request.Objects.Count);
    }

    [Theory]
    [InlineData("a red", "describes no shape")]
    [InlineData("above a circle", "needs an object before it")]
    [InlineData("two red circles in the center", "cannot share one place")]
    [InlineData("a red blue circle", "name one colour per object")]
    public void Malformed_prompts_say_what_is_wrong(string prompt, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => PromptReader.Read(prompt)).Message);
}

public sealed class VocabularyDocTests
{
    /// docs/VOCABULARY.md lists every word the reader knows for the bundled world (the endpoint lists them live).
    [Fact]
    public void The_vocabulary_doc_lists_every_word_the_reader_knows()
    {
        var doc = File.ReadAllText(Path.Combine(DiffusionCluster.Tests.Shared.RepositoryRoot.Path, "docs", "VOCABULARY.md"));
        var missing = PromptReader.Vocabulary(World.Shapes)
            .Where(role => role.Key != "relations")
            .SelectMany(role => role.Value)
            .Where(word => word != "." && !doc.Contains($"`{word}`") && !doc.Contains($"`{word}(s)`") && !(word.EndsWith('s') && doc.Contains($"`{word[..^1]}(s)`")))
            .ToList();
        Assert.Empty(missing);
        Assert.All(PromptReader.Vocabulary(World.Shapes)["relations"].Where(r => !r.Contains(" and ") && !r.Contains("upper") && !r.Contains("lower")),
            r => Assert.Contains($"`{r}`", doc));
    }
}
