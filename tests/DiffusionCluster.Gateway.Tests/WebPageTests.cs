using System.Diagnostics;

namespace DiffusionCluster.Gateway.Tests;

/// The web page in a real browser: headless Debian Chromium driven by playwright-core (tests/web).
public sealed class WebPageTests(Xunit.Abstractions.ITestOutputHelper log)
{
    static string WebTests() => Path.Combine(RepositoryRoot.Path, "tests", "web");

    static (int Code, string Output) Run(string file, string arguments, string directory)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) process.Kill(entireProcessTree: true);
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public async Task Submitting_a_prompt_shows_stage_progress_the_image_and_its_timeline()
    {
        // The page asks for 1000 base steps (page.test.mjs) so one stage runs for seconds on the tiny cascade;
        // reading progress every 20 ms instead of 200 ms gives the browser many step counts to see within them.
        // With an API key: the page sends the key it holds, and the image loads from its signed link.
        await using var server = GatewayServer.With(new() { ["Gateway:ProgressIntervalMs"] = "20", ["Gateway:ApiKeys:0"] = "page-key" });
        await server.InitializeAsync();
        var web = WebTests();
        var chromium = Environment.GetEnvironmentVariable("CHROMIUM") ?? "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is missing: install Debian's chromium (apt-get install chromium), or set CHROMIUM");
        if (!Directory.Exists(Path.Combine(web, "node_modules", "playwright-core")))
        {
            var install = Run("npm", "ci --no-audit --no-fund", web);
            Assert.True(install.Code == 0, $"npm ci failed:\n{install.Output}");
        }
        var screenshot = Path.Combine(Path.GetTempPath(), $"dc-page-{Guid.NewGuid():N}.png");

        var (code, output) = Run("node", $"page.test.mjs {server.BaseUrl} {screenshot} page-key", web);

        Assert.True(code == 0, output);
        Assert.True(new FileInfo(screenshot).Length > 0);
        Assert.True(new FileInfo(screenshot.Replace(".png", "-phone.png")).Length > 0);
        log.WriteLine(output); // names the desktop and phone screenshots
    }
}
