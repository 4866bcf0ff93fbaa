using System.Diagnostics;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Cli.Scale;

/// How one request of the load ended. Arrived: seconds from the load's start. Seconds: its end-to-end time as the
/// client saw it, refusals and their waits included. Stages: its stage runs, GrainMilliseconds: its time inside the
/// request grain (completed requests only). Refusals: how often admission refused it before it ran.
public sealed record LoadOutcome(double Arrived, int Size, string Result, double Seconds, IReadOnlyList<StageRun> Stages, double GrainMilliseconds, string? Error,
    int Refusals = 0);

/// Open-loop load: requests arrive at exponentially distributed intervals (a Poisson process) at the rate the
/// schedule gives for the moment, each of a size drawn from the mix, sent whether or not earlier ones have ended,
/// as independent users send them, through the client path the gateway uses. A request admission refuses is sent
/// again after the Retry-After it was given, as an obedient client does. Each is followed to its end: completed,
/// failed (it ended in an error) or lost (no answer within its deadline and four minutes).
public sealed class PoissonLoad(IGrainFactory grains, IReadOnlyList<(int Size, double Share)> mix, int seed, double deadlineSeconds = 600)
{
    static readonly string[] Prompts = ["a red circle", "a star above a circle", "two green circles", "a small blue square on the left"];
    readonly Random _random = new(seed);
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly List<Task<LoadOutcome>> _requests = [];

    /// Seconds since the load was created, the clock every outcome's Arrived is on.
    public double Now => _clock.Elapsed.TotalSeconds;

    /// Sends requests for the given time at rate(t) per second (t: seconds since the load was created).
    public async Task Drive(TimeSpan duration, Func<double, double> rate, CancellationToken cancellation = default)
    {
        var end = Now + duration.TotalSeconds;
        var next = Now;
        while (!cancellation.IsCancellationRequested)
        {
            next += -Math.Log(1 - _random.NextDouble()) / Math.Max(1e-6, rate(next));
            if (next >= end) break;
            var wait = next - Now;
            if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait), cancellation);
            lock (_requests) _requests.Add(Send(Now, Size(), _requests.Count));
        }
    }

    /// How many requests have been sent so far.
    public int Sent
    {
        get { lock (_requests) return _requests.Count; }
    }

    /// Every request sent so far, once each has ended.
    public async Task<IReadOnlyList<LoadOutcome>> Outcomes()
    {
        Task<LoadOutcome>[] all;
        lock (_requests) all = [.. _requests];
        return await Task.WhenAll(all);
    }

    int Size()
    {
        var pick = _random.NextDouble() * mix.Sum(m => m.Share);
        foreach (var (size, share) in mix)
            if ((pick -= share) < 0) return size;
        return mix[^1].Size;
    }

    async Task<LoadOutcome> Send(double arrived, int size, int index)
    {
        var spec = new GenerationSpec { Prompt = Prompts[index % Prompts.Length], Size = size, Seed = (ulong)index, DeadlineSeconds = deadlineSeconds };
        var clock = Stopwatch.StartNew();
        int refusals = 0;
        while (true)
        {
            try
            {
                // The product's client path (CascadeRequests): bounded calls, and a request whose call meets a lost silo is
                // started again under the same id, as the gateway does.
                var result = await grains.Generate(spec).WaitAsync(TimeSpan.FromSeconds(deadlineSeconds + 240));
                return new LoadOutcome(arrived, size, "completed", clock.Elapsed.TotalSeconds, result.Stages, result.TotalMilliseconds, null, refusals);
            }
            catch (StageOverloadedException e) when (clock.Elapsed.TotalSeconds + e.RetryAfterSeconds < deadlineSeconds)
            {
                // Refused at admission (the gateway's 429): nothing was recorded; come back when told.
                refusals++;
                await Task.Delay(TimeSpan.FromSeconds(e.RetryAfterSeconds));
            }
            catch (TimeoutException e)
            {
                return new LoadOutcome(arrived, size, "lost", clock.Elapsed.TotalSeconds, [], 0, e.Message, refusals);
            }
            catch (Exception e)
            {
                // The type and where it was thrown (Orleans keeps a remote exception's stack), for a failure to be traced.
                var origin = e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("DiffusionCluster", StringComparison.Ordinal))?.Trim();
                return new LoadOutcome(arrived, size, "failed", clock.Elapsed.TotalSeconds, [], 0, $"{e.GetType().Name}: {e.Message}" + (origin is null ? "" : $" ({origin})"), refusals);
            }
        }
    }
}
