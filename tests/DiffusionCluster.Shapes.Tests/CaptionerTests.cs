using DiffusionCluster.Shapes;

namespace DiffusionCluster.Shapes.Tests;

public class CaptionerTests
{
    static List<Caption> Captions(int count) =>
        Enumerable.Range(0, count).Select(s => Captioner.Describe(SceneGenerator.Sample(s, Split.Train), new Random(s))).ToList();

    [Fact]
    public void Captions_name_every_object_colour_and_the_background()
    {
        foreach (var caption in Captions(300))
        {
            foreach (var o in caption.Scene.Objects) Assert.Contains(o.Colour, caption.Text);
            Assert.Contains(caption.Scene.Background, caption.Text);
        }
    }

    [Fact]
    public void The_grammar_varies_word_order_synonyms_and_relations()
    {
        var texts = Captions(600).Select(c => c.Text).ToList();

        Assert.Contains(texts, t => t.StartsWith("a white background with") || t.StartsWith("a black background with"));
        Assert.Contains(texts, t => t.Contains(" against "));
        Assert.Contains(texts, t => t.Contains("big") || t.Contains("huge"));
        Assert.Contains(texts, t => t.Contains(" above ") || t.Contains(" over ") || t.Contains(" below ") || t.Contains(" under "));
        Assert.Contains(texts, t => t.Contains("to the left of") || t.Contains("left of") || t.Contains("right of"));
        Assert.Contains(texts, t => t.Contains("striped") || t.Contains("stripy"));
        Assert.Contains(texts, t => t.Contains("there is"));
        Assert.True(texts.Distinct().Count() > 590);
    }

    [Fact]
    public void Relations_describe_the_scene_correctly()
    {
        foreach (var caption in Captions(600).Where(c => c.Relation is not null))
        {
            var r = caption.Relation!;
            var (a, b) = (caption.Scene.Objects[r.First].Position, caption.Scene.Objects[r.Second].Position);
            bool holds = r.Kind switch
            {
                RelationKind.Above => a.Row() < b.Row() && a.Column() == b.Column(),
                RelationKind.Below => a.Row() > b.Row() && a.Column() == b.Column(),
                RelationKind.LeftOf => a.Column() < b.Column() && a.Row() == b.Row(),
                _ => a.Column() > b.Column() && a.Row() == b.Row(),
            };
            Assert.True(holds, caption.Text);
        }
    }

    [Fact]
    public void Every_caption_word_is_in_the_vocabulary()
    {
        var vocabulary = Captioner.Words().ToHashSet();

        foreach (var caption in Captions(500))
            foreach (var word in caption.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                Assert.Contains(word, vocabulary);
    }
}
