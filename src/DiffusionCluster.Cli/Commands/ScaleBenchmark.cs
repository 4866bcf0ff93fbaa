using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Cli.Scale;
using DiffusionCluster.Grains.Batching;
using DiffusionCluster.Grains.Capacity;
using DiffusionCluster.Models.Cascade;

namespace DiffusionCluster.Cli.Commands;

public sealed record StageReport(
    string Stage, double ArrivalsPerSecond, int PlannedReplicas, int BatchSize, double MaxQueueDelayMilliseconds, double PlannedUtilisation,
    Percentiles QueueSeconds, Percentiles StageSeconds, double MeanQueueDepth, int MaxQueueDepth, Percentiles PlannedStageSeconds);

public sealed record PhaseReport(
    string Phase, double Seconds, double OfferedPerSecond, double AchievedPerSecond, int Sent, int Completed, int Failed, int Lost,
    Percentiles EndToEndSeconds, IReadOnlyDictionary<string, Percentiles> EndToEndSecondsBySize, Percentiles RouteMilliseconds,
    Percentiles OutsideStagesMillisecondsPerStage,
    IReadOnlyList<StageReport> Stages, IReadOnlyList<string> Events, IReadOnlyList<string> Errors, double? MachineCpuBusy = null,
    int Refusals = 0, IReadOnlyList<double>? EndToEndP50ByArrivalThird = null);

public sealed record ScaleReport(
    string Profile, double TimeScale, double TargetPerSecond, string Mix, double Utilisation, int Silos, string Layout,
    IReadOnlyDictionary<string, Percentiles> PlannedEndToEndSecondsBySize, IReadOnlyList<StagePlan> Plan, IReadOnlyList<PhaseReport> Phases);

/// `bench scale`: does a cluster sized by `plan` deliver? Plans replicas and batching for a target rate and size
/// mix from a stage profile, starts that cluster with simulated-compute silos (SimulatedCluster: real processes,
/// grains, routing, batching and PostgreSQL membership; stages that take the profile's time instead of
/// computing), drives open-loop Poisson load (PoissonLoad) and reports throughput, latency per stage and end to end,
/// queue depths and orchestration cost beside the plan's predictions. Phases: steady (the target rate), churn (a
/// stage silo killed and replaced every --churn-every s), step (twice the rate with the chart's HPA rule adding
/// silos: desired = ceil(replicas x queue depth per replica / --target-queue-depth); then back to the rate, the
/// rule removing them). --silos-per-process packs the stage pools' silos (SimulatedCluster) so that 64 fit. --fewer
/// STAGE runs that pool with one replica fewer than planned, measured against the plan's predictions.
public static class ScaleBenchmark
{
    static readonly Option<double> RateOption = CliOption.Double("--rate", "images per second to plan for and drive", 2, 0.01, 1000, "IMAGES_PER_S");
    static readonly Option<string> MixOption = CliOption.Text("--mix", "the sizes asked for and their shares", "64:1,256:1,1024:1", "SIZE:SHARE,...");
    static readonly Option<string?> ProfileOption = CliOption.OptionalText("--profile", "the stage profile [default: docs/bench/stage-profile-cpu.json]", "FILE.json");
    static readonly Option<double> UtilisationOption = CliOption.Double("--utilisation", "the busy share the plan sizes each replica for", 0.7, 0.05, 1, "U");
    static readonly Option<int> FrontOption = CliOption.Int("--front", "front silos (request grains, text stage)", 2, 1, 64);
    static readonly Option<double> DurationOption = CliOption.Double("--duration", "seconds each phase is measured", 60, 5, 3600, "S");
    static readonly Option<double> WarmUpOption = CliOption.Double("--warm-up", "seconds of load before the first phase is measured", 15, 0, 600, "S");
    static readonly Option<double> ChurnEveryOption = CliOption.Double("--churn-every", "add a phase killing and replacing a stage silo every S s (0: none)", 0, 0, 600, "S");
    static readonly Option<bool> StepOption = CliOption.Flag("--step", "add a phase at twice the rate with the chart's HPA rule adding silos, and one back at the rate with it removing them");
    static readonly Option<double> TargetQueueDepthOption = CliOption.Double("--target-queue-depth", "the HPA rule's queue depth per replica", 2, 0.1, 1000, "N");
    static readonly Option<int> MaxSilosOption = CliOption.Int("--max-silos", "the most silos the run may start", 80, 1, 500);
    static readonly Option<int> SilosPerProcessOption = CliOption.Int("--silos-per-process", "stage silos packed into one process (many silos on a small machine)", 1, 1, 64);
    static readonly Option<double> TimeScaleOption = CliOption.Double("--time-scale", "every batch F times slower: the same cluster at 1/F of the rate", 1, 1, 1000, "F");
    static readonly Option<string?> FewerOption = CliOption.OptionalText("--fewer", "run that stage's pool one replica under the plan", "STAGE");
    static readonly Option<string> ModelOption = CliOption.Model("the model folder (its stages)");
    static readonly Option<string?> OutputOption = CliOption.OutputFile("--out", "also write the report as JSON", null, "FILE.json");

    public static Command Create()
    {
        var command = new Command("scale", "Sizes a cluster with `plan` for the rate, starts it as simulated-compute silo processes (stages take the profile's "
            + "time; grains, routing, batching and PostgreSQL membership are real), drives Poisson load and reports throughput, latency per stage and "
            + "end to end, queue depths and orchestration cost beside the plan.")
        {
            RateOption, MixOption, ProfileOption, UtilisationOption, FrontOption, DurationOption, WarmUpOption, ChurnEveryOption, StepOption,
            TargetQueueDepthOption, MaxSilosOption, SilosPerProcessOption, TimeScaleOption, FewerOption, ModelOption, OutputOption,
        };
        command.SetAction((line, _) => Run(line));
        return command;
    }

    static async Task<int> Run(ParseResult line)
    {
        var profileFile = Path.GetFullPath(line.GetValue(ProfileOption) ?? Path.Combine(Reliability.LocalCluster.RepositoryRoot(), "docs", "bench", "stage-profile-cpu.json"));
        var model = Path.GetFullPath(line.GetValue(ModelOption)!);
        double rate = line.GetValue(RateOption);
        var mixText = line.GetValue(MixOption)!;
        double utilisation = line.GetValue(UtilisationOption);
        int front = line.GetValue(FrontOption);
        var duration = TimeSpan.FromSeconds(line.GetValue(DurationOption));
        var warmUp = TimeSpan.FromSeconds(line.GetValue(WarmUpOption));
        double churnEvery = line.GetValue(ChurnEveryOption);
        bool step = line.GetValue(StepOption);
        double targetQueueDepth = line.GetValue(TargetQueueDepthOption);
        int maxSilos = line.GetValue(MaxSilosOption);
        int silosPerProcess = line.GetValue(SilosPerProcessOption);
        double timeScale = line.GetValue(TimeScaleOption);
        var fewerText = line.GetValue(FewerOption);
        var output = line.GetValue(OutputOption);

        var profile = StageProfile.Read(profileFile);
        var profileName = Path.GetFileName(profileFile);
        if (timeScale != 1)
        {
            // The silos read the slowed profile too: their simulated batches take the scaled times.
            profile = profile.Slowed(timeScale);
            profileFile = Path.Combine(Path.GetTempPath(), $"stage-profile-x{timeScale:0.##}-{Guid.NewGuid():N}.json");
            File.WriteAllText(profileFile, profile.ToJson());
        }
        var cascade = CascadeFolder.Definition(model);
        var mix = ParseMix(mixText, cascade);
        var (plans, arrivals) = PlanMix(profile, cascade, rate, mix, utilisation);
        var replicas = plans.ToDictionary(p => CascadeStages.Parse(p.Stage), p => p.Replicas);
        if (fewerText is not null)
        {
            // One replica fewer than planned in one pool, against the plan's own predictions: is the plan the smallest?
            var fewer = CascadeStages.Parse(fewerText);
            if (!replicas.TryGetValue(fewer, out var planned) || planned < 2)
                throw new UsageException($"--fewer {fewerText}: the plan gives that stage {planned} replica(s); name a stage planned with 2 or more");
            replicas[fewer] = planned - 1;
        }
        var batching = plans.ToDictionary(p => CascadeStages.Parse(p.Stage), p => new BatchingOptions
        {
            MaxBatchSize = p.BatchSize, MaxQueueDelayMilliseconds = Math.Ceiling(p.MaxQueueDelayMilliseconds), MaxQueueLength = Math.Max(p.MaxQueueLength, 16),
        });
        int silos = Math.Max(front, replicas.GetValueOrDefault(CascadeStage.Text)) + replicas.Where(r => r.Key != CascadeStage.Text).Sum(r => r.Value);
        var classes = mix.Select(m => new RequestClass(m.Size.ToString(CultureInfo.InvariantCulture), m.Share,
            cascade.For(m.Size).Select(s => s.Stage.Name()).ToList())).ToList();
        var predicted = CapacityPlanner.Predict(plans, profile, classes, rate);
        Console.WriteLine($"plan for {rate:0.###} images/s ({mixText}) at utilisation {utilisation:0.##}, profile {profileName}" +
            (timeScale != 1 ? $" with every batch time x {timeScale:0.##}" : "") + ":");
        foreach (var p in plans) Console.WriteLine($"  {p.Arithmetic}");
        Console.WriteLine("  the planned cascade simulated, end-to-end p50/p99 by size: " +
            string.Join(", ", predicted.EndToEndSecondsByClass.Select(l => $"{l.Key} px {l.Value.P50:0.00}/{l.Value.P99:0.00} s")));

        if (silos > maxSilos) throw new UsageException($"the plan for {rate} images/s needs {silos} silos; --max-silos is {maxSilos}: lower --rate or raise --max-silos");

        using var cluster = await SimulatedCluster.Start(model, profileFile, replicas, front, batching, silosPerProcess, Console.Out);
        await using var client = await CascadeConnection.Client(cluster.Database.ConnectionString, TimeSpan.FromMinutes(3));
        var router = new StageRouter(client.Grains);
        await WaitForMembership(router, cluster.SiloCount);
        var load = new PoissonLoad(client.Grains, mix, seed: 1);
        var layout = silosPerProcess == 1
            ? $"{silos} silo processes (one silo each) on one machine; {front} front silos host text and the client's gateways"
            : $"{silos} silos in {cluster.Silos.Count} processes on one machine (up to {silosPerProcess} to a process, one of each pool alone); " +
              $"{front} front silos, each its own process, host text and the client's gateways";
        if (fewerText is not null) layout += $"; {fewerText} one replica under the plan ({replicas[CascadeStages.Parse(fewerText)]})";
        Console.WriteLine($"cluster up: {layout}");

        // The load never pauses: phases follow one another while earlier requests are still running (a pause to
        // collect outcomes would start each phase with an empty pipeline, and its window would miss the completions
        // a steady cluster has). Outcomes, depth samples and events are collected once the last phase has ended.
        if (warmUp > TimeSpan.Zero) await load.Drive(warmUp, _ => rate);
        var ran = new List<(string Name, double Start, double End, int From, int To, Task<List<Dictionary<string, (int Depth, int Hosts)>>> Depths,
            Task<List<string>> Events, double? CpuBusy)>();
        async Task Phase(string name, Func<double, double> rateAt, Func<CancellationToken, Task<List<string>>>? alongside = null)
        {
            var (start, from) = (load.Now, load.Sent);
            var cpuBefore = MachineCpu.Read();
            var stop = new CancellationTokenSource();
            var depths = SampleDepths(router, stop.Token);
            var events = alongside?.Invoke(stop.Token) ?? Task.FromResult(new List<string>());
            await load.Drive(duration, rateAt);
            stop.Cancel();
            ran.Add((name, start, load.Now, from, load.Sent, depths, events, MachineCpu.BusySince(cpuBefore)));
            Console.WriteLine($"{name}: {load.Sent - from} requests sent in {load.Now - start:0} s");
        }

        await Phase("steady", _ => rate);
        if (churnEvery > 0) await Phase("churn", _ => rate, stop => Churn(cluster, churnEvery, stop));
        if (step)
        {
            var floor = replicas.ToDictionary(r => r.Key, r => r.Value);
            await Phase("step x2", _ => 2 * rate, stop => Autoscale(cluster, router, targetQueueDepth, maxSilos, floor, silosPerProcess, load, stop));
            await Phase("step back", _ => rate, stop => Autoscale(cluster, router, targetQueueDepth, maxSilos, floor, silosPerProcess, load, stop));
        }
        var all = await load.Outcomes();
        var phases = new List<PhaseReport>();
        foreach (var p in ran)
        {
            var report = Report(p.Name, p.Start, p.End, all.Skip(p.From).Take(p.To - p.From).ToList(), all, await p.Depths, plans, predicted, arrivals, await p.Events)
                with { MachineCpuBusy = p.CpuBusy };
            Print(report, predicted.EndToEndSecondsByClass);
            phases.Add(report);
        }

        var result = new ScaleReport(profileName, timeScale, rate, mixText, utilisation, silos, layout, predicted.EndToEndSecondsByClass, plans, phases);
        if (output is not null)
        {
            File.WriteAllText(output, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"wrote {output}");
        }
        return phases.Any(p => p.Lost > 0) ? 1 : 0;
    }

    static List<(int Size, double Share)> ParseMix(string text, CascadeDefinition cascade)
    {
        var mix = new List<(int, double)>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var pieces = part.Split(':');
            if (pieces.Length != 2 || !int.TryParse(pieces[0], out var size) || !double.TryParse(pieces[1], CultureInfo.InvariantCulture, out var share) || !(share > 0))
                throw new UsageException($"--mix \"{text}\": give SIZE:SHARE pairs, e.g. 64:1,256:1,1024:1");
            if (!cascade.Sizes.Contains(size)) throw new UsageException($"--mix size {size}: the cascade makes {string.Join(", ", cascade.Sizes)}");
            mix.Add((size, share));
        }
        return mix.Count > 0 ? mix : throw new UsageException("--mix is empty");
    }

    /// Each stage's plan at the rate that reaches it (the requests whose size runs it).
    static (List<StagePlan> Plans, Dictionary<string, double> Arrivals) PlanMix(StageProfile profile, CascadeDefinition cascade, double rate,
        IReadOnlyList<(int Size, double Share)> mix, double utilisation)
    {
        double total = mix.Sum(m => m.Share);
        var plans = new List<StagePlan>();
        var arrivals = new Dictionary<string, double>();
        foreach (var stage in cascade.Stages)
        {
            double stageRate = rate * mix.Where(m => cascade.For(m.Size).Contains(stage)).Sum(m => m.Share) / total;
            if (stageRate <= 0) continue;
            arrivals[stage.Stage.Name()] = stageRate;
            plans.Add(CapacityPlanner.PlanStage(CapacityPlanner.Timings(profile, stage.Stage, cascade.Sizes.Max()), stageRate, utilisation));
        }
        return (plans, arrivals);
    }

    static async Task WaitForMembership(StageRouter router, int silos)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var seen = (await router.DescribeAll()).Count(d => d is not null);
            if (seen >= silos) return;
            if (clock.Elapsed > TimeSpan.FromMinutes(3)) throw new TimeoutException($"only {seen} of {silos} silos answered after 3 minutes");
            await Task.Delay(1000);
        }
    }

    /// Every stage's queue depth (queued plus running requests over its hosts), once a second.
    static async Task<List<Dictionary<string, (int Depth, int Hosts)>>> SampleDepths(StageRouter router, CancellationToken stop)
    {
        var samples = new List<Dictionary<string, (int, int)>>();
        while (!stop.IsCancellationRequested)
        {
            var silos = (await router.DescribeAll()).OfType<SiloDescription>().ToList();
            samples.Add(silos.SelectMany(d => d.Load).GroupBy(l => l.Key.Name()).ToDictionary(g => g.Key, g => (g.Sum(l => l.Value), g.Count())));
            try { await Task.Delay(1000, stop); } catch (OperationCanceledException) { }
        }
        return samples;
    }

    /// Kills a random non-front silo every `every` seconds and starts a replacement hosting the same stage.
    static async Task<List<string>> Churn(SimulatedCluster cluster, double every, CancellationToken stop)
    {
        var events = new List<string>();
        var random = new Random(7);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var replacements = new List<Task>();
        for (int round = 1; !stop.IsCancellationRequested; round++)
        {
            // On a fixed schedule (every s from the phase's start), however long a kill took.
            var next = TimeSpan.FromSeconds(every * round) - clock.Elapsed;
            try { if (next > TimeSpan.Zero) await Task.Delay(next, stop); } catch (OperationCanceledException) { break; }
            // A process of one silo: the loss of one machine running one silo.
            var victims = cluster.Silos.Where(s => !s.Front && s.Count == 1).ToList();
            if (victims.Count == 0) break;
            var victim = victims[random.Next(victims.Count)];
            cluster.Kill(victim);
            events.Add($"{clock.Elapsed.TotalSeconds:0.0} s: killed {victim.Process.Name}, starting a replacement");
            replacements.Add(cluster.Add(victim.Stage));
        }
        await Task.WhenAll(replacements);
        return events;
    }

    /// Rounds of 5 s the rule must ask for fewer replicas before one goes: 30 s of stabilisation.
    const int ScaleDownRounds = 6;

    /// The chart's HPA rule per stage pool, every 5 s: desired = ceil(replicas x mean queue depth per replica / target),
    /// capped by maxSilos above and the plan's replicas below. Up at once, in processes of up to silosPerProcess; down
    /// only after the rule has asked for fewer ScaleDownRounds times running (HPA's stabilisation window, shortened
    /// from its default 5 minutes to fit a phase), by SIGTERM (a graceful pod stop) to one process per pool per
    /// round, the largest that leaves at least the desired count. The phase reports when every pool is back at or
    /// under the target.
    static async Task<List<string>> Autoscale(SimulatedCluster cluster, StageRouter router, double target, int maxSilos,
        IReadOnlyDictionary<CascadeStage, int> floor, int silosPerProcess, PoissonLoad load, CancellationToken stop)
    {
        var events = new List<string>();
        var changing = new List<Task>();
        var start = load.Now;
        double? absorbed = null;
        int calm = 0;
        var wantsFewer = new Dictionary<CascadeStage, int>();
        while (!stop.IsCancellationRequested)
        {
            try { await Task.Delay(5000, stop); } catch (OperationCanceledException) { break; }
            var silos = (await router.DescribeAll()).OfType<SiloDescription>().ToList();
            bool allUnder = true;
            foreach (var stage in silos.SelectMany(d => d.Load.Keys).Distinct())
            {
                var hosts = silos.Where(d => d.Load.ContainsKey(stage)).ToList();
                double perReplica = hosts.Average(h => h.Load[stage]);
                if (perReplica > target) allUnder = false;
                if (stage == CascadeStage.Text) continue;
                int desired = Math.Max(floor.GetValueOrDefault(stage, 1), (int)Math.Ceiling(hosts.Count * perReplica / target));
                int add = Math.Min(desired - hosts.Count, maxSilos - cluster.SiloCount);
                if (add > 0)
                {
                    wantsFewer[stage] = 0;
                    events.Add($"{load.Now - start:0} s: {stage.Name()} at {perReplica:0.0} per replica over {hosts.Count}: adding {add}");
                    for (int left = add; left > 0; left -= silosPerProcess) changing.Add(cluster.Add(stage, Math.Min(left, silosPerProcess)));
                }
                else if (desired < hosts.Count && (wantsFewer[stage] = wantsFewer.GetValueOrDefault(stage) + 1) >= ScaleDownRounds
                         && cluster.Silos.Where(s => s.Stage == stage && !s.Front && s.Count <= hosts.Count - desired)
                             .OrderByDescending(s => s.Count).FirstOrDefault() is { } victim)
                {
                    wantsFewer[stage] = 0;
                    events.Add($"{load.Now - start:0} s: {stage.Name()} at {perReplica:0.0} per replica over {hosts.Count} (wants {desired}): stopping {victim.Process.Name}");
                    changing.Add(cluster.Stop(victim));
                }
                else if (desired >= hosts.Count) wantsFewer[stage] = 0;
            }
            calm = allUnder ? calm + 1 : 0;
            if (calm == 3 && absorbed is null)
            {
                absorbed = load.Now - start - 10;
                events.Add($"absorbed: every pool at or under {target} per replica from {absorbed:0} s into the phase");
            }
        }
        await Task.WhenAll(changing);
        if (absorbed is null) events.Add($"not absorbed within the phase: some pool stayed above {target} per replica");
        events.Add($"silos at the end of the phase: {cluster.SiloCount}");
        return events;
    }

    static PhaseReport Report(string name, double start, double end, List<LoadOutcome> sent, IReadOnlyList<LoadOutcome> all,
        List<Dictionary<string, (int Depth, int Hosts)>> depths, List<StagePlan> plans, SimulationOutcome predicted, Dictionary<string, double> arrivals,
        List<string> events)
    {
        var seconds = end - start;
        var completed = sent.Where(o => o.Result == "completed").ToList();
        // Throughput: completions inside the phase's window, whenever the request arrived.
        int doneInWindow = all.Count(o => o.Result == "completed" && o.Arrived + o.Seconds >= start && o.Arrived + o.Seconds < end);
        var stages = plans.Select(p =>
        {
            var runs = completed.SelectMany(o => o.Stages).Where(r => r.Stage.Name() == p.Stage).ToList();
            var samples = depths.Select(d => d.GetValueOrDefault(p.Stage).Depth).DefaultIfEmpty(0).ToList();
            return new StageReport(p.Stage, arrivals[p.Stage], p.Replicas, p.BatchSize, p.MaxQueueDelayMilliseconds, p.Utilisation,
                Percentiles.Of(runs.Select(r => r.QueueMilliseconds / 1000)), Percentiles.Of(runs.Select(r => (r.QueueMilliseconds + r.ComputeMilliseconds) / 1000)),
                samples.Average(), samples.Max(), predicted.Pools[p.Stage].StageSeconds);
        }).ToList();
        // Per stage, the request grain's time outside the stages' queues and compute: routing, messaging, wire
        // tensors, PNG encoding of the last stage.
        var outside = completed.Where(o => o.Stages.Count > 0)
            .Select(o => (o.GrainMilliseconds - o.Stages.Sum(r => r.QueueMilliseconds + r.ComputeMilliseconds)) / o.Stages.Count);
        var errors = sent.Where(o => o.Error is not null).GroupBy(o => $"{o.Result}: {o.Error}").Select(g => $"{g.Count()} x {g.Key}").ToList();
        return new PhaseReport(name, seconds, sent.Count / seconds, doneInWindow / seconds, sent.Count, completed.Count,
            sent.Count(o => o.Result == "failed"), sent.Count(o => o.Result == "lost"),
            Percentiles.Of(completed.Select(o => o.Seconds)),
            completed.GroupBy(o => o.Size).OrderBy(g => g.Key).ToDictionary(g => g.Key.ToString(CultureInfo.InvariantCulture), g => Percentiles.Of(g.Select(o => o.Seconds))),
            Percentiles.Of(completed.SelectMany(o => o.Stages).Select(r => r.RouteMilliseconds)), Percentiles.Of(outside), stages, events, errors,
            Refusals: sent.Sum(o => o.Refusals),
            // A cluster that does not keep up builds a backlog: later arrivals wait longer.
            EndToEndP50ByArrivalThird: completed.OrderBy(o => o.Arrived).Select((o, i) => (o, Third: 3 * i / Math.Max(1, completed.Count)))
                .GroupBy(x => x.Third).OrderBy(g => g.Key).Select(g => Percentiles.Of(g.Select(x => x.o.Seconds)).P50).ToList());
    }

    /// What the arrival thirds' medians say: a last third a quarter above the first is a backlog building.
    static string Trend(IReadOnlyList<double> thirds) =>
        thirds[^1] > 1.25 * thirds[0] ? "rising: a backlog building" : thirds[^1] < 0.8 * thirds[0] ? "falling: a backlog draining" : "level";

    static void Print(PhaseReport r, IReadOnlyDictionary<string, Percentiles> planned)
    {
        Console.WriteLine($"{r.Phase}: offered {r.OfferedPerSecond:0.00}/s, achieved {r.AchievedPerSecond:0.00}/s; sent {r.Sent}, completed {r.Completed}, failed {r.Failed}, lost {r.Lost}, refusals obeyed {r.Refusals}; " +
            $"end to end p50/p95/p99 {r.EndToEndSeconds.P50:0.00}/{r.EndToEndSeconds.P95:0.00}/{r.EndToEndSeconds.P99:0.00} s; " +
            $"routing per stage p50/p95/p99 {r.RouteMilliseconds.P50:0.000}/{r.RouteMilliseconds.P95:0.000}/{r.RouteMilliseconds.P99:0.000} ms; " +
            $"outside queue and compute per stage p50/p95 {r.OutsideStagesMillisecondsPerStage.P50:0.0}/{r.OutsideStagesMillisecondsPerStage.P95:0.0} ms");
        if (r.EndToEndP50ByArrivalThird is { Count: > 0 } thirds)
            Console.WriteLine($"  end-to-end p50 by arrival third: {string.Join(" / ", thirds.Select(t => t.ToString("0.00", CultureInfo.InvariantCulture)))} s ({Trend(thirds)})");
        if (r.MachineCpuBusy is { } busy) Console.WriteLine($"  machine CPU busy {busy:P0} of all cores over the phase");
        foreach (var (size, p) in r.EndToEndSecondsBySize)
            Console.WriteLine($"  {size,5} px  end to end p50/p95/p99 {p.P50:0.00}/{p.P95:0.00}/{p.P99:0.00} s  (plan, simulated: p50 {planned.GetValueOrDefault(size)?.P50:0.00}, p99 {planned.GetValueOrDefault(size)?.P99:0.00} s)");
        foreach (var s in r.Stages)
            Console.WriteLine($"  {s.Stage,-10} {s.ArrivalsPerSecond,6:0.00}/s  replicas {s.PlannedReplicas,3}  planned utilisation {s.PlannedUtilisation,4:P0}  " +
                $"queue p50/p95/p99 {s.QueueSeconds.P50:0.00}/{s.QueueSeconds.P95:0.00}/{s.QueueSeconds.P99:0.00} s  stage p99 {s.StageSeconds.P99:0.00} s (plan {s.PlannedStageSeconds.P99:0.00})  depth mean {s.MeanQueueDepth:0.0} max {s.MaxQueueDepth}");
        foreach (var e in r.Events) Console.WriteLine($"  {e}");
        foreach (var e in r.Errors.Take(5)) Console.WriteLine($"  {e}");
    }
}
