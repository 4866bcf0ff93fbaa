using System.Globalization;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Capacity;

/// A pool of the chart: the stages its silos host together, sized for their combined work. A pool of one stage is
/// that stage's plan.
public sealed record PoolPlan(string Name, IReadOnlyList<StagePlan> Stages, int Replicas, double Utilisation, string Arithmetic);

/// Folds per-stage plans into the chart's pools. A silo hosting several stages runs each stage's batcher on the same
/// device, so the pool's replicas are the fewest whose simulated stages, each at its own rate, batch size and queue
/// delay, add up to at most the target utilisation.
public static class PoolPlanner
{
    /// Parses --pools: "NAME=STAGE,STAGE;NAME=STAGE,...".
    public static IReadOnlyDictionary<string, IReadOnlyList<CascadeStage>> Parse(string text)
    {
        var pools = new Dictionary<string, IReadOnlyList<CascadeStage>>();
        foreach (var part in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var pieces = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (pieces.Length != 2 || pieces[0].Length == 0 || !pieces[0].All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
                throw new ArgumentException($"pools \"{text}\": give NAME=STAGE,STAGE pairs separated by ';' (names of lower-case letters, digits and '-'), e.g. decoder64=text,prior,decoder64");
            if (pools.ContainsKey(pieces[0])) throw new ArgumentException($"pools \"{text}\": pool {pieces[0]} is named twice");
            pools[pieces[0]] = CascadeStages.ParseList(pieces[1]);
        }
        return pools;
    }

    /// pools: pool name -> its stages; a planned stage that no pool names is a pool of its own, named after it.
    /// ratePerSecond: the rate reaching each planned stage.
    public static IReadOnlyList<PoolPlan> Fold(IReadOnlyList<StagePlan> stages, IReadOnlyDictionary<string, IReadOnlyList<CascadeStage>> pools,
        StageProfile profile, IReadOnlyDictionary<string, double> ratePerSecond, double utilisation)
    {
        var planned = stages.ToDictionary(s => s.Stage);
        var placed = new Dictionary<string, string>();
        foreach (var (pool, members) in pools)
            foreach (var stage in members.Select(m => m.Name()))
            {
                if (!planned.ContainsKey(stage))
                    throw new ArgumentException($"pool {pool} names stage {stage}, which this plan does not run; it plans {string.Join(", ", planned.Keys)}");
                if (!placed.TryAdd(stage, pool)) throw new ArgumentException($"stage {stage} is in pools {placed[stage]} and {pool}; a stage belongs to one pool");
            }
        var result = new List<PoolPlan>();
        foreach (var stage in stages.Where(s => !placed.ContainsKey(s.Stage)))
            result.Add(new PoolPlan(stage.Stage, [stage], stage.Replicas, stage.Utilisation, stage.Arithmetic));
        foreach (var (pool, members) in pools)
            result.Add(Size(pool, members.Select(m => planned[m.Name()]).ToList(), profile, ratePerSecond, utilisation));
        // In the cascade's order, by each pool's first stage.
        var order = stages.Select((s, i) => (s.Stage, i)).ToDictionary(x => x.Stage, x => x.i);
        return result.OrderBy(p => p.Stages.Min(s => order[s.Stage])).ToList();
    }

    static PoolPlan Size(string pool, IReadOnlyList<StagePlan> members, StageProfile profile, IReadOnlyDictionary<string, double> ratePerSecond, double utilisation)
    {
        if (members.Count == 1) return new PoolPlan(pool, members, members[0].Replicas, members[0].Utilisation, members[0].Arithmetic);
        for (int n = members.Max(m => m.Replicas); ; n++)
        {
            var outcomes = members.Select(m => CapacityPlanner.SimulatePool(CapacityPlanner.Timings(profile, CascadeStages.Parse(m.Stage), 0),
                m.BatchSize, n, m.MaxQueueDelayMilliseconds, ratePerSecond[m.Stage])).ToList();
            double total = outcomes.Sum(o => o.Utilisation);
            if (total > utilisation && n < 100_000) continue;
            var sized = members.Zip(outcomes, (m, o) => m with
            {
                Replicas = n, Utilisation = o.Utilisation, BusyReplicas = o.Utilisation * n, MeanBatch = o.MeanBatch, StageSeconds = o.StageSeconds,
            }).ToList();
            var shares = string.Join(" + ", sized.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Stage} {s.Utilisation:P0}")));
            var alone = string.Join(", ", members.Select(m => $"{m.Stage} {m.Replicas}"));
            var arithmetic = string.Create(CultureInfo.InvariantCulture,
                $"pool {pool} ({string.Join(", ", members.Select(m => m.Stage))}): the stages share each silo, so their simulated utilisations add: " +
                $"{shares} = {total:P0} with {n} replicas (the fewest at or under {utilisation:P0}; alone they would need {alone})");
            return new PoolPlan(pool, sized, n, total, arithmetic);
        }
    }
}
