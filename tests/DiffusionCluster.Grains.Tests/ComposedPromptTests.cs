using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Tests;

/// The request grain's edge for prompts as people write them: the text stage composes the caption from the seed and
/// the result carries it; unknown words fail the request by name before any sampling stage runs.
public sealed class ComposedPromptTests
{
    [Fact]
    public async Task The_result_carries_the_caption_the_image_was_drawn_from_and_the_seed_decides_it()
    {
        await using var cluster = await StageCluster.Start(["all"]);

        var first = await cluster.Request().Generate(Specs.Quick(seed: 4) with { Prompt = "a red circle" });
        var again = await cluster.Request().Generate(Specs.Quick(seed: 4) with { Prompt = "a red circle" });
        var captions = await Task.WhenAll(Enumerable.Range(0, 8).Select(async s =>
            (await cluster.Request().Generate(Specs.Quick(seed: (ulong)s) with { Prompt = "a red circle" })).Caption!.Caption));

        Assert.Matches("^a (small|medium|large) red circle .+ on a (white|black|gray|beige) background$", first.Caption!.Caption);
        Assert.Equal(first.Caption.Caption, again.Caption!.Caption);
        Assert.True(captions.Distinct().Count() >= 4, string.Join("\n", captions));
    }

    [Fact]
    public async Task Unknown_words_fail_the_request_by_name_before_any_sampling_stage()
    {
        await using var cluster = await StageCluster.Start(["all"]);
        var request = cluster.Request();

        var error = await Assert.ThrowsAsync<UnknownPromptWordsException>(() => request.Generate(Specs.Quick() with { Prompt = "a fluffy red circle" }));

        Assert.Equal(["fluffy"], error.Words);
        Assert.Contains("\"fluffy\"", error.Message);
        var progress = await request.GetProgress();
        Assert.Equal(GenerationState.Failed, progress.State);
        Assert.Equal(CascadeStage.Text, progress.Stage);
    }

    [Fact]
    public async Task Asked_to_ignore_them_the_request_draws_and_reports_the_unknown_words()
    {
        await using var cluster = await StageCluster.Start(["all"]);

        var result = await cluster.Request().Generate(Specs.Quick() with { Prompt = "a fluffy red circle", IgnoreUnknownWords = true });

        Assert.Equal(["fluffy"], result.Caption!.IgnoredWords);
        Assert.Contains("red circle", result.Caption.Caption);
    }
}
