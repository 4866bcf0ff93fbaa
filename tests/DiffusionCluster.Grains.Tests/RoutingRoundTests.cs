using DiffusionCluster.Abstractions;
using Orleans.Runtime;

namespace DiffusionCluster.Grains.Tests;

/// StageRouter's round of silo descriptions: reused within its window, asked for again in the background after it
/// (requests route by the round they have meanwhile), and requests sent since a round counted as load.
public sealed class RoutingRoundTests : IAsyncLifetime
{
    StageCluster _cluster = null!;
    int _asked;
    /// How long the next ask for the active silos takes, and every ask after it: rounds held up by a silo going away.
    TimeSpan _nextAskTakes, _everyAskTakes;

    public async Task InitializeAsync() => _cluster = await StageCluster.Start(["text,prior", "decoder64", "decoder64"]);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    StageRouter Router(TimeSpan reuseFor) => new(_cluster.Client, () =>
    {
        Interlocked.Increment(ref _asked);
        var takes = _nextAskTakes > TimeSpan.Zero ? _nextAskTakes : _everyAskTakes;
        _nextAskTakes = TimeSpan.Zero;
        Thread.Sleep(takes);
        return _cluster.Cluster.Silos.Where(s => s.IsActive).Select(s => s.SiloAddress).ToList();
    }, reuseFor);

    [Fact]
    public async Task A_stale_round_is_replaced_in_the_background_while_requests_route_by_it()
    {
        var router = Router(TimeSpan.FromMilliseconds(500));

        var first = await router.DescribeAll();
        Assert.Equal(1, _asked);
        Assert.Same(first, await router.DescribeAll()); // within the window: the same round, nobody asked

        await Task.Delay(600);
        var stale = await router.DescribeAll();
        Assert.Same(first, stale); // past the window: answered from the round in hand while the next is asked for

        SiloDescription?[] next = stale;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); ReferenceEquals(next, first) && clock.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(20))
            next = await router.DescribeAll();
        Assert.NotSame(first, next);
        Assert.Equal(2, _asked); // one round asked for in the background, however many requests found the first stale
        Assert.Equal(3, next.Count(d => d is not null));
    }

    [Fact]
    public async Task Requests_sent_since_the_round_count_as_load_so_a_burst_spreads_over_the_hosts()
    {
        var router = Router(TimeSpan.FromMinutes(5));
        var (hosts, allAnswered) = await router.Candidates(CascadeStage.Decoder64, new HashSet<string>());
        Assert.True(allAnswered);
        Assert.Equal(2, hosts.Count);

        var chosen = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            var silo = (await router.Candidates(CascadeStage.Decoder64, new HashSet<string>())).Hosts[0].Silo;
            router.Sent(CascadeStage.Decoder64, silo);
            chosen.Add(silo);
        }

        Assert.Equal(1, _asked);
        Assert.Equal(3, chosen.Count(s => s == hosts[0].Silo));
        Assert.Equal(3, chosen.Count(s => s == hosts[1].Silo));
    }

    [Fact]
    public async Task A_slow_round_does_not_hold_requests_while_the_one_before_it_serves()
    {
        var router = Router(TimeSpan.FromMilliseconds(100));
        var first = await router.DescribeAll();
        await Task.Delay(150);
        _nextAskTakes = TimeSpan.FromSeconds(4);
        Assert.Same(first, await router.DescribeAll()); // past the window: the next round is asked for, and hangs

        await Task.Delay(1200); // the round in hand is now older than eight windows
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var during = await router.DescribeAll();

        Assert.Same(first, during);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"routing waited {clock.Elapsed.TotalSeconds:0.0} s for the slow round");
    }

    [Fact]
    public async Task Rounds_that_are_all_slow_never_hold_requests_after_the_first()
    {
        // Every round takes 1.5 s, fifteen windows: while a dying silo is still a member, each round waits for it.
        _everyAskTakes = TimeSpan.FromMilliseconds(1500);
        var router = Router(TimeSpan.FromMilliseconds(100));
        await router.DescribeAll();

        var longest = TimeSpan.Zero;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(5); await Task.Delay(50))
        {
            var one = System.Diagnostics.Stopwatch.StartNew();
            await router.DescribeAll();
            if (one.Elapsed > longest) longest = one.Elapsed;
        }

        Assert.True(longest < TimeSpan.FromMilliseconds(500), $"a request waited {longest.TotalSeconds:0.00} s for a round");
        Assert.InRange(_asked, 3, 6); // rounds kept being asked for, one at a time
    }

    [Fact]
    public async Task A_router_that_sat_idle_waits_for_a_fresh_round()
    {
        var router = Router(TimeSpan.FromMilliseconds(100));
        var first = await router.DescribeAll();
        await Task.Delay(1200); // idle for twelve windows: its view of load means nothing now

        var after = await router.DescribeAll();

        Assert.NotSame(first, after);
        Assert.Equal(2, _asked);
    }
}
