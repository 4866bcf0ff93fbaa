using System.Text.Json;

namespace DiffusionCluster.Grains.Tests.MultiProcess;

/// The chaos suite, as an operator runs it: `bench chaos` starts PostgreSQL, five silos and two gateway replicas as
/// processes, and each fault (a decoder64 silo killed, the only sr256 silo killed and restarted, a front silo holding
/// request grains killed and restarted, PostgreSQL stopped, a gateway replica killed) strikes while jobs run through
/// obedient HTTP clients; then a burst. The tests' tiny cascade keeps it short; every count is asserted.
public sealed class ChaosSuiteTests
{
    [Fact]
    public async Task No_fault_loses_or_fails_a_job_and_a_burst_needs_few_retries()
    {
        var reportFile = Path.Combine(Path.GetTempPath(), $"chaos-{Guid.NewGuid():N}.json");
        try
        {
            var (code, output) = await CliRun.Run(TimeSpan.FromMinutes(12), "bench", "chaos", "--model", TinyCascadeFolder.Path,
                "--jobs", "6", "--steps", "40", "--burst", "40", "--out", reportFile);
            Assert.True(code == 0, output);
            var report = JsonDocument.Parse(File.ReadAllText(reportFile)).RootElement;

            var faults = report.GetProperty("Faults").EnumerateArray().ToList();
            Assert.Equal(["baseline", "stage-silo", "sole-host", "request-silo", "database", "gateway"], faults.Select(f => f.GetProperty("Fault").GetString()));
            foreach (var fault in faults)
            {
                var name = fault.GetProperty("Fault").GetString();
                int Count(string field) => fault.GetProperty(field).GetInt32();
                Assert.True(Count("Completed") == 6 && Count("Lost") == 0 && Count("Failed") == 0 && Count("Refused") == 0, $"{name}: {fault}\n{output}");
                // A fault that struck after every job had ended would prove nothing.
                if (name != "baseline") Assert.True(Count("InFlightAtFault") > 0, $"{name} struck with no job in flight\n{output}");
            }
            // Jobs submitted while PostgreSQL is down are accepted at once, and readiness says what is degraded.
            var database = faults.Single(f => f.GetProperty("Fault").GetString() == "database");
            Assert.Equal(1.0, database.GetProperty("SubmissionsPerJob").GetDouble());
            Assert.Contains("request storage failing", database.GetProperty("ReadinessDuringFault").GetString());

            var burst = report.GetProperty("Burst");
            Assert.True(burst.GetProperty("Completed").GetInt32() == 40, $"burst: {burst}\n{output}");
            Assert.True(burst.GetProperty("SubmissionsPerImage").GetDouble() <= 1.5, $"burst: {burst}");
        }
        finally
        {
            File.Delete(reportFile);
        }
    }
}
