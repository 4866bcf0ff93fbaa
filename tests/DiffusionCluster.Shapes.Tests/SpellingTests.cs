using DiffusionCluster.Shapes;

namespace DiffusionCluster.Shapes.Tests;

public sealed class SpellingTests
{
    static readonly string[] Known = ["circle", "square", "star", "green", "red", "seed", "size", "steps"];

    [Theory]
    [InlineData("cirle", "circle")] // a letter left out
    [InlineData("sqaure", "square")] // neighbours swapped: one edit
    [InlineData("Grren", "green")] // case aside
    [InlineData("sede", "seed")]
    [InlineData("stpes", "steps")]
    public void A_slip_is_answered_with_the_word_it_is_near(string word, string expected) =>
        Assert.Equal(expected, Spelling.Closest(word, Known));

    [Fact]
    public void A_word_near_nothing_or_equally_near_two_gets_no_hint()
    {
        Assert.Null(Spelling.Closest("fluffy", Known));
        Assert.Null(Spelling.Closest("reed", Known)); // one edit from both "red" and "seed"
        Assert.Null(Spelling.Closest("rxx", Known)); // two edits from "red": too many for a short word
        Assert.Equal("square", Spelling.Closest("sqxxre", Known)); // two are a slip in a longer one
    }

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("abc", "", 3)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("ab", "ba", 1)]
    [InlineData("abcd", "acbd", 1)]
    public void The_distance_counts_insertions_deletions_substitutions_and_swaps(string a, string b, int expected) =>
        Assert.Equal(expected, Spelling.Distance(a, b));
}
