using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Text;

namespace DiffusionCluster.Models.Tests;

public sealed class TokenizerTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("dc-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    TextTokenizer Create(int maxLength = 8)
    {
        TextTokenizer.WriteVocabulary(_folder, ["a", "red", "circle", "blue", "square", "on", "white", "background"]);
        return TextTokenizer.Load(_folder, maxLength);
    }

    [Fact]
    public void Encodes_lower_cased_words_between_cls_and_sep()
    {
        var tokenizer = Create();

        var ids = tokenizer.Encode("A Red circle");

        Assert.Equal(new[] { 2, 5, 6, 7, 3 }, ids);
        Assert.Equal(13, tokenizer.VocabularySize);
    }

    [Fact]
    public void Pads_a_batch_with_zeros()
    {
        var tokenizer = Create();

        using var batch = tokenizer.EncodeBatch(["red circle", "a blue square on white background"]);

        Assert.Equal(new long[] { 2, 8 }, batch.shape);
        Assert.Equal(new long[] { 2, 6, 7, 3, 0, 0, 0, 0 }, batch[0].data<long>().ToArray());
    }

    [Fact]
    public void Unknown_words_become_unk()
    {
        Assert.Equal(new[] { 2, 1, 3 }, Create().Encode("hexagon"));
    }

    [Fact]
    public void A_prompt_over_the_limit_names_both_lengths()
    {
        var error = Assert.Throws<ArgumentException>(() => Create(maxLength: 4).Encode("a red circle on white"));

        Assert.Equal("prompt is 7 tokens; the text encoder accepts 4; shorten it", error.Message);
    }

    [Fact]
    public void A_vocabulary_without_the_special_tokens_first_is_rejected()
    {
        File.WriteAllLines(Path.Combine(_folder, TextTokenizer.VocabularyFile), ["red", "[PAD]"]);

        var error = Assert.Throws<ModelFormatException>(() => TextTokenizer.Load(_folder, 8));

        Assert.Contains("line 1 must be [PAD]", error.Message);
    }
}
