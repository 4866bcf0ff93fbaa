using System.Text.Json;

namespace DiffusionCluster.Grains.Tests.MultiProcess;

/// The small version of `bench scale`: a cluster sized by `plan` for 1.2 images/s of mixed sizes (eight simulated
/// silo processes and PostgreSQL), 30 s of Poisson load. Every request must complete, the cluster must carry most of
/// the offered rate, and the report must hold the plan beside what was measured.
public sealed class ScaleBenchTests
{
    [Fact]
    public async Task A_cluster_sized_by_plan_carries_its_rate_with_nothing_lost()
    {
        var reportFile = Path.Combine(Path.GetTempPath(), $"scale-{Guid.NewGuid():N}.json");
        try
        {
            var (code, output) = await CliRun.Run(TimeSpan.FromMinutes(8), "bench", "scale", "--model", Path.Combine(Repository.Root(), "models", "shapes-cascade"),
                "--profile", Path.Combine(Repository.Root(), "docs", "bench", "scale-profile-cpu.json"),
                "--rate", "1.2", "--mix", "64:1,256:1,1024:1", "--duration", "30", "--warm-up", "10", "--max-silos", "8", "--out", reportFile);
            Assert.True(code == 0, output);
            var report = JsonDocument.Parse(File.ReadAllText(reportFile)).RootElement;

            Assert.Equal(8, report.GetProperty("Silos").GetInt32());
            var plan = report.GetProperty("Plan").EnumerateArray().ToDictionary(p => p.GetProperty("Stage").GetString()!, p => p.GetProperty("Replicas").GetInt32());
            Assert.Equal(new Dictionary<string, int> { ["text"] = 1, ["prior"] = 1, ["decoder64"] = 2, ["sr256"] = 1, ["sr1024"] = 2 }, plan);
            var steady = report.GetProperty("Phases")[0];
            int sent = steady.GetProperty("Sent").GetInt32();
            Assert.True(sent > 15, $"only {sent} requests in 30 s at 1.2/s\n{output}");
            Assert.True(steady.GetProperty("Completed").GetInt32() == sent, $"{steady}\n{output}");
            double offered = steady.GetProperty("OfferedPerSecond").GetDouble(), achieved = steady.GetProperty("AchievedPerSecond").GetDouble();
            // 30 s of Poisson arrivals is a small sample and the window cuts requests in flight at both ends, so
            // this bar is coarse: a cluster that stalls or loses its routing falls far below it.
            Assert.True(achieved >= 0.5 * offered, $"achieved {achieved:0.00}/s of {offered:0.00}/s offered\n{output}");
            Assert.All(steady.GetProperty("Stages").EnumerateArray(), s => Assert.True(s.GetProperty("StageSeconds").GetProperty("P50").GetDouble() > 0, s.ToString()));
            // The plan's simulated latency sits beside the measured one: a 1024 px image runs every stage, so it
            // takes at least the sum of their single-batch times (0.5 + 1.0 + 0.75 + 3.1 s in this profile).
            var planned = report.GetProperty("PlannedEndToEndSecondsBySize");
            Assert.InRange(planned.GetProperty("1024").GetProperty("P50").GetDouble(), 5.3, 60);
            Assert.True(planned.GetProperty("1024").GetProperty("P99").GetDouble() >= planned.GetProperty("64").GetProperty("P99").GetDouble());
        }
        finally
        {
            File.Delete(reportFile);
        }
    }
}
