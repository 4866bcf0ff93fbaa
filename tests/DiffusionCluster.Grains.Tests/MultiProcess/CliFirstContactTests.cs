namespace DiffusionCluster.Grains.Tests.MultiProcess;

/// What a new user meets first on the command line: help per command, a version, mistakes answered in one line
/// before any compute, a cluster that is not there reported within seconds.
public sealed class CliFirstContactTests
{
    static readonly TimeSpan Quick = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task Help_for_one_command_shows_that_command_only(string flag)
    {
        var (code, output) = await CliRun.Run(Quick, "generate", flag);

        Assert.True(code == 0, output);
        Assert.Contains("diffusion-cluster generate <prompt> [options]", output);
        Assert.Contains("--seed", output);
        Assert.DoesNotContain("bench networks", output);
        Assert.DoesNotContain("error", output);
    }

    [Fact]
    public async Task Version_is_printed()
    {
        var (code, output) = await CliRun.Run(Quick, "--version");

        Assert.True(code == 0, output);
        Assert.StartsWith("diffusion-cluster ", output);
    }

    [Theory]
    [InlineData("genrate", "unknown command \"genrate\" (did you mean \"generate\"?)")]
    [InlineData("generate", "unknown option --sede (did you mean --seed?)")]
    public async Task A_typo_in_a_command_or_an_option_is_answered_with_the_nearest_one(string command, string expected)
    {
        var (code, output) = await CliRun.Run(Quick, command, "a red circle", "--model", TinyCascadeFolder.Path, "--sede", "3");

        Assert.Equal(2, code);
        Assert.Contains(expected, output);
    }

    [Theory]
    [InlineData("--seed -1: must be a whole number from 0 to 2147483647", "generate", "a red circle", "--seed", "-1")]
    [InlineData("--strength 2: must be a number from 0.05 to 1", "edit", "sdedit", "--image", "x.png", "--strength", "2")]
    [InlineData("unknown command \"netwoks\" (did you mean \"networks\"?)", "bench", "netwoks")]
    [InlineData("unknown option --bogus", "eval", "write-dev", "--bogus")]
    [InlineData("unexpected argument \"red\" (a prompt or caption of several words goes in quotes)", "generate", "a", "red", "circle")]
    [InlineData("diffusion-cluster edit needs one of: variation,", "edit")]
    [InlineData("--out /nonexistent-dc-folder/profile.json: the folder /nonexistent-dc-folder does not exist", "bench", "stages", "--out", "/nonexistent-dc-folder/profile.json")]
    [InlineData("--size 128: must be 64 or 256", "train", "bases", "--out", "work/b", "--size", "128")]
    [InlineData("--generated-target sharp: must be render or flat", "train", "sr1024", "--generated-target", "sharp")]
    public async Task A_mistake_is_named_in_one_line_with_where_the_options_are_listed(string expected, params string[] args)
    {
        var (code, output) = await CliRun.Run(Quick, args);

        Assert.Equal(2, code);
        Assert.Contains($"error: {expected}", output);
        Assert.Equal(2, output.Trim().Split('\n').Length);
        Assert.EndsWith("--help lists the options)", output.Trim());
    }

    [Fact]
    public async Task An_output_folder_that_does_not_exist_is_refused_before_any_compute()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}", "image.png");

        var (code, output) = await CliRun.Run(Quick, "generate", "a red circle", "--model", TinyCascadeFolder.Path, "--out", missing);

        Assert.Equal(2, code);
        Assert.Contains("does not exist", output);
        Assert.DoesNotContain("step", output);
        Assert.Equal(2, output.Trim().Split('\n').Length); // the error and where the options are listed
    }

    [Fact]
    public async Task A_cluster_that_is_not_there_is_reported_within_seconds_in_one_line()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var (code, output) = await CliRun.Run(Quick, "generate", "a red circle", "--cluster", $"localhost:{FreePorts.Next()}");

        Assert.Equal(1, code);
        Assert.Contains("could not connect to the cluster", output);
        Assert.Single(output.Trim().Split('\n'));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("--enlarge writes the pictures of its folder; --count, --size and --seed draw new ones", "train", "bases", "--out", "work/b", "--enlarge", "work/a", "--count", "5")]
    [InlineData("--generated-share, --generated-target and --flat-from shape the rows drawn from --generated-inputs", "train", "sr256", "--flat-from", "work/a")]
    public async Task Options_that_contradict_each_other_are_refused_in_one_line_before_any_work(string expected, params string[] args)
    {
        var (code, output) = await CliRun.Run(Quick, args);

        Assert.Equal(1, code);
        Assert.Contains(expected, output);
        Assert.Single(output.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_gpu_asked_for_on_a_machine_without_one_is_one_line()
    {
        var (code, output) = await CliRun.Run(Quick, "generate", "a red circle", "--model", TinyCascadeFolder.Path, "--device", "cuda",
            "--out", Path.Combine(Path.GetTempPath(), $"cuda-{Guid.NewGuid():N}.png"));

        Assert.Equal(1, code);
        Assert.Contains("CUDA", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Size_is_accepted_as_the_http_api_writes_it()
    {
        var file = Path.Combine(Path.GetTempPath(), $"size-{Guid.NewGuid():N}.png");
        try
        {
            var (code, output) = await CliRun.Run(TimeSpan.FromMinutes(3), "generate", "a red circle", "--size", "64x64", "--model", TinyCascadeFolder.Path,
                "--prior-steps", "2", "--decoder64-steps", "2", "--threads", "1", "--out", file);

            Assert.True(code == 0, output);
            Assert.True(File.Exists(file));
            var (refused, message) = await CliRun.Run(Quick, "generate", "a red circle", "--size", "64x128", "--out", file);
            Assert.Equal(2, refused);
            Assert.Contains("images are square", message);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
