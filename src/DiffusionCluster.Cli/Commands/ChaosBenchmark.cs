using System.CommandLine;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Cli.Reliability;
using DiffusionCluster.Models.Cascade;

namespace DiffusionCluster.Cli.Commands;

public sealed record FaultReport(
    string Fault, string What, int Jobs, int InFlightAtFault, int Completed, int Failed, int Lost, int Refused,
    double SubmissionsPerJob, double P50Seconds, double P95Seconds, int MaxAttempt, string? ReadinessDuringFault, IReadOnlyList<string> Errors,
    IReadOnlyList<string> Retries);

public sealed record BurstReport(
    int Images, int Completed, int Failed, int Lost, int Refused, double SubmissionsPerImage, double RequestsPerImage,
    double P50Seconds, double P95Seconds, double WallSeconds, double HealthP95Milliseconds, int HealthSamples, int HealthFailures,
    IReadOnlyList<string> Errors, IReadOnlyList<string> Retries, IReadOnlyList<BurstWindow> Timeline);

/// What happened in one window of a burst (seconds from its start): submissions sent, refused and accepted, jobs
/// completed, and the service time the refusals assumed (the median over refusals that gave one of their bottleneck's
/// seconds of work times its hosts over the requests ahead: seconds per request on one host).
public sealed record BurstWindow(double From, double To, int Submitted, int Refused, int Accepted, int Completed, double? AssumedSecondsPerRequest);

public sealed record ChaosReport(int Size, int? Steps, string Model, IReadOnlyList<FaultReport> Faults, BurstReport? Burst);

/// `bench chaos`: what clients see when machines fail. Starts LocalCluster (real processes, real PostgreSQL, on
/// loopback), then for each fault submits jobs through both gateway replicas with ObedientClients, injects the
/// fault while they run and counts how each job ended: completed, failed, lost (accepted, then unknown or never
/// ended) or refused. --burst N then sends N jobs at once and counts the requests obedient clients needed per image
/// and how fast readiness answered meanwhile.
public static class ChaosBenchmark
{
    static readonly string[] AllFaults = ["baseline", "stage-silo", "sole-host", "request-silo", "database", "gateway"];
    static readonly string[] Prompts = ["a red circle", "a small blue square", "a large green star", "a red star on a white background"];

    static readonly Option<string> ModelOption = CliOption.Model();
    static readonly Option<string> FaultsOption = CliOption.Text("--faults", $"all, none, or a list of {string.Join(",", AllFaults)}", "all", "FAULTS");
    static readonly Option<int> JobsOption = CliOption.Int("--jobs", "jobs per fault", 20, 1, 1000);
    static readonly Option<int> SizeOption = CliOption.Int("--size", "image side: 64 or 256 (the local cluster hosts no sr1024)", 256, 64, 256, "PIXELS");
    static readonly Option<int?> StepsOption = CliOption.OptionalInt("--steps", "denoising steps of every stage (default: the model folder's)", 1, 1000);
    static readonly Option<int> BurstOption = CliOption.Int("--burst", "then send N jobs at once and count requests per image and readiness latency", 0, 0, 10_000);
    static readonly Option<double> RestartAfterOption = CliOption.Double("--restart-after", "seconds before a killed process is started again", 15, 0, 600, "S");
    static readonly Option<double> OutageOption = CliOption.Double("--outage", "seconds the database is down", 20, 1, 600, "S");
    static readonly Option<int> SweepOption = CliOption.Int("--sweep-seconds", "the silos' request sweep interval", 10, 1, 3600, "S");
    static readonly Option<double> PatienceOption = CliOption.Double("--patience", "seconds a client waits for a job before counting it lost", 600, 10, 7200, "S");
    static readonly Option<string?> OutputOption = CliOption.OutputFile("--out", "also write the report as JSON", null, "FILE.json");
    static readonly Option<string?> LogsOption = CliOption.OutputFile("--logs", "write each process's last 200 lines there", null, "FILE");

    public static Command Create()
    {
        var command = new Command("chaos", "Starts PostgreSQL, 5 silos and 2 gateways as processes on loopback (from a built checkout), runs N jobs through "
            + "obedient clients while each fault strikes, and counts completed / failed / lost / refused.")
        {
            ModelOption, FaultsOption, JobsOption, SizeOption, StepsOption, BurstOption, RestartAfterOption, OutageOption, SweepOption, PatienceOption, OutputOption, LogsOption,
        };
        command.SetAction((line, _) => Run(line));
        return command;
    }

    static async Task<int> Run(ParseResult line)
    {
        var model = Path.GetFullPath(line.GetValue(ModelOption)!);
        var faults = line.GetValue(FaultsOption)! switch
        {
            "all" => AllFaults,
            "none" => [],
            var list => list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
        };
        foreach (var f in faults.Where(f => !AllFaults.Contains(f)))
            throw new UsageException($"unknown fault \"{f}\"; known: {string.Join(", ", AllFaults)}, or all / none");
        int jobs = line.GetValue(JobsOption);
        int size = line.GetValue(SizeOption);
        if (size is not (64 or 256)) throw new UsageException($"--size {size}: allowed 64 or 256 (the local cluster hosts no sr1024)");
        if (size == 64 && faults.Contains("sole-host")) throw new UsageException("the sole-host fault kills the sr256 silo: it needs --size 256");
        int? steps = line.GetValue(StepsOption);
        int burst = line.GetValue(BurstOption);
        var restartAfter = TimeSpan.FromSeconds(line.GetValue(RestartAfterOption));
        var outage = TimeSpan.FromSeconds(line.GetValue(OutageOption));
        var sweep = line.GetValue(SweepOption);
        var patience = TimeSpan.FromSeconds(line.GetValue(PatienceOption));
        var output = line.GetValue(OutputOption);
        var logs = line.GetValue(LogsOption);
        if (!Directory.Exists(model)) throw new UsageException($"model folder {model} not found");

        var siloSettings = new Dictionary<string, string> { ["Silo__RequestSweepSeconds"] = sweep.ToString() };
        using var cluster = await LocalCluster.Start(model, siloSettings, Console.Out);
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var client = new ObedientClient(http, cluster.Gateways, patience);
        int next = -1;
        object Body()
        {
            int i = Interlocked.Increment(ref next);
            var body = new Dictionary<string, object> { ["prompt"] = Prompts[i % Prompts.Length], ["size"] = $"{size}x{size}", ["seed"] = i };
            if (steps is { } s)
            {
                body["prior_steps"] = s;
                body["decoder64_steps"] = s;
                if (size >= 256) body["sr256_steps"] = s;
            }
            return body;
        }

        var reports = new List<FaultReport>();
        Console.WriteLine($"{"fault",-13} {"jobs",5} {"in flight",9} {"completed",9} {"failed",6} {"lost",4} {"refused",7} {"subm/job",8} {"p50 s",6} {"p95 s",6} {"retries",7}");
        foreach (var fault in faults)
        {
            var report = await RunFault(fault, cluster, client, http, jobs, Body, restartAfter, outage);
            reports.Add(report);
            Console.WriteLine($"{report.Fault,-13} {report.Jobs,5} {report.InFlightAtFault,9} {report.Completed,9} {report.Failed,6} {report.Lost,4} {report.Refused,7} " +
                              $"{report.SubmissionsPerJob,8:F2} {report.P50Seconds,6:F1} {report.P95Seconds,6:F1} {(report.MaxAttempt > 1 ? "yes" : "no"),7}");
            if (report.ReadinessDuringFault is { } ready) Console.WriteLine($"    readiness during the fault: {ready}");
            foreach (var error in report.Errors) Console.WriteLine($"    {error}");
            foreach (var retry in report.Retries) Console.WriteLine($"    submitted again after: {retry}");
        }
        BurstReport? burstReport = burst > 0 ? await RunBurst(cluster, client, burst, Body, http) : null;
        if (burstReport is { } b)
        {
            Console.WriteLine($"burst of {b.Images} jobs: completed {b.Completed}, failed {b.Failed}, lost {b.Lost}, refused {b.Refused}; " +
                              $"{b.SubmissionsPerImage:F2} submissions and {b.RequestsPerImage:F2} requests per image; job p50 {b.P50Seconds:F1} s, p95 {b.P95Seconds:F1} s; " +
                              $"{b.WallSeconds:F0} s in all; /health/ready p95 {b.HealthP95Milliseconds:F0} ms over {b.HealthSamples} reads ({b.HealthFailures} not ready)");
            foreach (var error in b.Errors) Console.WriteLine($"    {error}");
            foreach (var retry in b.Retries) Console.WriteLine($"    submitted again after: {retry}");
            Console.WriteLine($"    {"window s",10} {"submitted",9} {"refused",7} {"accepted",8} {"completed",9} {"assumed s/request",17}");
            foreach (var w in b.Timeline)
                Console.WriteLine($"    {$"{w.From:0}-{w.To:0}",10} {w.Submitted,9} {w.Refused,7} {w.Accepted,8} {w.Completed,9} {w.AssumedSecondsPerRequest?.ToString("0.00") ?? "-",17}");
        }
        if (logs is not null)
        {
            File.WriteAllText(logs, cluster.Output + "\n");
            Console.WriteLine($"wrote the processes' last output to {logs}");
        }
        if (output is not null)
        {
            var report = new ChaosReport(size, steps, model, reports, burstReport);
            File.WriteAllText(output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"wrote {output}");
        }
        return 0;
    }

    /// Submits the jobs, injects the fault once one of them reaches the stage the fault hits, waits for every job's
    /// end, then brings the cluster back to full strength for the next fault.
    static async Task<FaultReport> RunFault(string fault, LocalCluster cluster, ObedientClient client, HttpClient http, int jobs, Func<object> body,
        TimeSpan restartAfter, TimeSpan outage)
    {
        var (trigger, what) = fault switch
        {
            "baseline" => ("", "no fault"),
            "stage-silo" => ("decoder64", "kill -9 one of two decoder64 silos"),
            "sole-host" => ("sr256", $"kill -9 the only sr256 silo, started again {restartAfter.TotalSeconds:0} s later"),
            "request-silo" => ("decoder64", $"kill -9 a front silo holding request grains, started again {restartAfter.TotalSeconds:0} s later"),
            "database" => ("", $"PostgreSQL stopped for {outage.TotalSeconds:0} s, the jobs submitted during the outage"),
            "gateway" => ("decoder64", "kill -9 one of two gateway replicas"),
            _ => throw new UsageException($"unknown fault \"{fault}\""),
        };
        // What stage each running job is in: the fault strikes once enough jobs are in the stage it hits (two for
        // a decoder64 silo, so that both silos of the stage are likely busy and the killed one holds work).
        // The database goes down before the jobs are submitted: new requests as well as running ones meet the outage.
        if (fault == "database") cluster.Database.Stop();
        var stages = new ConcurrentDictionary<int, string>();
        int needed = fault == "stage-silo" ? Math.Min(2, jobs) : 1;
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int ended = 0;
        var runs = Enumerable.Range(0, jobs).Select(i => Task.Run(async () =>
        {
            var outcome = await client.Run(body(), i, stage =>
            {
                stages[i] = stage;
                if (stages.Values.Count(s => s == trigger) >= needed) reached.TrySetResult();
            });
            stages.TryRemove(i, out _);
            Interlocked.Increment(ref ended);
            return outcome;
        })).ToList();
        var all = Task.WhenAll(runs);
        if (fault is "baseline" or "database") reached.TrySetResult();
        await Task.WhenAny(reached.Task, all);
        int inFlight = fault == "baseline" ? 0 : jobs - Volatile.Read(ref ended);
        string? readiness = null;
        switch (fault)
        {
            case "stage-silo":
                cluster.Base.Kill();
                readiness = await Readiness(cluster, http, TimeSpan.FromSeconds(2));
                break;
            case "sole-host":
                cluster.Sr256.Kill();
                readiness = await Readiness(cluster, http, restartAfter);
                await cluster.Sr256.Start();
                break;
            case "request-silo":
                cluster.Front.Kill();
                readiness = await Readiness(cluster, http, restartAfter);
                await cluster.Front.Start();
                break;
            case "database":
                readiness = await Readiness(cluster, http, outage);
                cluster.Database.Start();
                break;
            case "gateway":
                cluster.Gateway.Kill();
                readiness = await Readiness(cluster, http, TimeSpan.FromSeconds(2));
                break;
        }
        var outcomes = await all;
        if (!cluster.Base.Running) await cluster.Base.Start();
        if (!cluster.Gateway.Running) await cluster.Gateway.Start();
        var seconds = outcomes.Select(o => o.Seconds).Order().ToList();
        return new FaultReport(fault, what, jobs, inFlight,
            outcomes.Count(o => o.Result == "completed"), outcomes.Count(o => o.Result == "failed"), outcomes.Count(o => o.Result == "lost"),
            outcomes.Count(o => o.Result == "refused"), outcomes.Average(o => o.Submissions), Percentile(seconds, 0.5), Percentile(seconds, 0.95),
            outcomes.Max(o => o.MaxAttempt), readiness, Errors(outcomes), Retries(outcomes));
    }

    /// What the surviving gateway's readiness says `after` into a fault: status code, status and what is degraded.
    static async Task<string> Readiness(LocalCluster cluster, HttpClient http, TimeSpan after)
    {
        var half = after / 2;
        await Task.Delay(half);
        string answer;
        try
        {
            using var response = await http.GetAsync(new Uri(cluster.Gateways[^1], "/health/ready"));
            answer = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }
        catch (HttpRequestException e)
        {
            answer = e.Message;
        }
        await Task.Delay(after - half);
        return answer;
    }

    /// N jobs at once; meanwhile readiness is read every 100 ms from alternate gateways.
    static async Task<BurstReport> RunBurst(LocalCluster cluster, ObedientClient client, int images, Func<object> body, HttpClient http)
    {
        var clock = Stopwatch.StartNew();
        var bodies = Enumerable.Range(0, images).Select(_ => body()).ToList();
        var all = Task.WhenAll(bodies.Select((b, i) => Task.Run(() => client.Run(b, i))));
        var health = new ConcurrentBag<double>();
        int healthFailures = 0, read = 0;
        while (!all.IsCompleted)
        {
            var timer = Stopwatch.StartNew();
            try
            {
                using var answer = await http.GetAsync(new Uri(cluster.Gateways[read++ % cluster.Gateways.Count], "/health/ready"));
                if (!answer.IsSuccessStatusCode) healthFailures++;
            }
            catch (HttpRequestException)
            {
                healthFailures++;
            }
            health.Add(timer.Elapsed.TotalMilliseconds);
            await Task.WhenAny(all, Task.Delay(100));
        }
        var outcomes = await all;
        var seconds = outcomes.Select(o => o.Seconds).Order().ToList();
        int completed = outcomes.Count(o => o.Result == "completed");
        return new BurstReport(images, completed, outcomes.Count(o => o.Result == "failed"), outcomes.Count(o => o.Result == "lost"),
            outcomes.Count(o => o.Result == "refused"), outcomes.Sum(o => o.Submissions) / (double)Math.Max(1, completed),
            outcomes.Sum(o => o.Requests) / (double)Math.Max(1, completed), Percentile(seconds, 0.5), Percentile(seconds, 0.95),
            clock.Elapsed.TotalSeconds, Percentile(health.Order().ToList(), 0.95), health.Count, healthFailures, Errors(outcomes), Retries(outcomes),
            Timeline(outcomes, TimeSpan.FromSeconds(30)));
    }

    /// The burst in windows of the given width. Every job starts with the burst, so its clock is the burst's.
    static List<BurstWindow> Timeline(IReadOnlyList<JobOutcome> outcomes, TimeSpan width)
    {
        var refusals = outcomes.SelectMany(o => o.Retries).ToList();
        var accepted = outcomes.Where(o => o.AcceptedAt is not null).Select(o => o.AcceptedAt!.Value).ToList();
        var completed = outcomes.Where(o => o.Result == "completed").Select(o => o.Seconds).ToList();
        var end = outcomes.Select(o => o.Seconds).DefaultIfEmpty(0).Max();
        var windows = new List<BurstWindow>();
        for (double from = 0; from < end; from += width.TotalSeconds)
        {
            var to = from + width.TotalSeconds;
            bool In(double t) => t >= from && t < to;
            var inWindow = refusals.Where(r => In(r.At)).ToList();
            var assumed = inWindow.Select(r => AssumedSecondsPerRequest(r.Answer)).OfType<double>().Order().ToList();
            windows.Add(new BurstWindow(from, to, inWindow.Count + accepted.Count(In), inWindow.Count, accepted.Count(In), completed.Count(In),
                assumed.Count == 0 ? null : Math.Round(Percentile(assumed, 0.5), 3)));
        }
        return windows;
    }

    /// From a saturation refusal ("... has 269 requests ahead of this one, about 1059 s of work for its 2 hosts ..."):
    /// the seconds per request on one host it assumed.
    static double? AssumedSecondsPerRequest(string answer)
    {
        var m = System.Text.RegularExpressions.Regex.Match(answer, @"has (\d+) requests ahead of this one, about (\d+) s of work for its (\d+) hosts");
        return m.Success && int.Parse(m.Groups[1].Value) > 0
            ? double.Parse(m.Groups[2].Value) * int.Parse(m.Groups[3].Value) / int.Parse(m.Groups[1].Value)
            : null;
    }

    /// The distinct errors, most frequent first, each with its count.
    static List<string> Errors(IEnumerable<JobOutcome> outcomes) =>
        Counted(outcomes.Where(o => o.Error is not null).Select(o => $"{o.Result}: {o.Error![..Math.Min(300, o.Error!.Length)]}"));

    /// Why submissions were sent again: each distinct answer with its count, most frequent first.
    static List<string> Retries(IEnumerable<JobOutcome> outcomes) => Counted(outcomes.SelectMany(o => o.Retries.Select(r => r.Answer)));

    /// The five most frequent texts, each with its count.
    static List<string> Counted(IEnumerable<string> texts) => texts
        .GroupBy(t => t)
        .OrderByDescending(g => g.Count())
        .Take(5)
        .Select(g => $"{g.Count()} x {g.Key}")
        .ToList();

    static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
