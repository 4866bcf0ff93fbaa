namespace DiffusionCluster.Grains.Tests.MultiProcess;

/// `generate` as a user runs it: a prompt with unknown words is refused by name and no image is written; asked to go
/// on, the CLI draws without them, says which words it left out and the caption it drew.
public sealed class CliPromptTests
{
    static Task<(int ExitCode, string Output)> Generate(string prompt, string output, params string[] extra) =>
        CliRun.Run(TimeSpan.FromMinutes(3), ["generate", prompt, "--model", TinyCascadeFolder.Path, "--out", output,
            "--prior-steps", "2", "--decoder64-steps", "2", "--threads", "1", .. extra]);

    [Fact]
    public async Task Unknown_words_are_refused_by_name_and_no_image_is_written()
    {
        var output = Path.Combine(Path.GetTempPath(), $"refused-{Guid.NewGuid():N}.png");

        var (code, text) = await Generate("a fluffy red circle", output);

        Assert.NotEqual(0, code);
        Assert.Contains("\"fluffy\"", text);
        Assert.Contains("docs/VOCABULARY.md", text);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Asked_to_go_on_the_cli_draws_and_names_the_words_it_left_out()
    {
        var output = Path.Combine(Path.GetTempPath(), $"ignored-{Guid.NewGuid():N}.png");
        try
        {
            var (code, text) = await Generate("a fluffy red circle", output, "--ignore-unknown-words");

            Assert.True(code == 0, text);
            Assert.Contains("ignored words the model does not know: fluffy", text);
            Assert.Matches("drawn from: a (small|medium|large) red circle", text);
            Assert.True(File.Exists(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task Asked_for_previews_the_cli_writes_the_image_as_it_forms()
    {
        var output = Path.Combine(Path.GetTempPath(), $"previewed-{Guid.NewGuid():N}.png");
        var folder = Directory.CreateTempSubdirectory("dc-previews-").FullName;
        try
        {
            // Enough decoder steps for several reports (at most four a second) on the tiny cascade.
            var (code, text) = await CliRun.Run(TimeSpan.FromMinutes(3), ["generate", "a red circle", "--model", TinyCascadeFolder.Path, "--out", output,
                "--prior-steps", "2", "--decoder64-steps", "600", "--threads", "1", "--previews", folder]);

            Assert.True(code == 0, text);
            var previews = Directory.GetFiles(folder, "decoder64-step*.png");
            Assert.NotEmpty(previews);
            Assert.All(previews, file => Assert.Equal(new long[] { 3, 64, 64 }, Models.Imaging.Png.Decode(File.ReadAllBytes(file)).shape));
        }
        finally
        {
            File.Delete(output);
            Directory.Delete(folder, recursive: true);
        }
    }
}
