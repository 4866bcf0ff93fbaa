using DiffusionCluster.Abstractions;
using Orleans.Runtime;

namespace DiffusionCluster.Grains.Tests;

/// StageRouter's round of silo descriptions: reused within its window, asked for again in the background after it
/// (requests route by the round they have meanwhile), and requests sent since a round counted as load.
public sealed class RoutingRoundTests : IAsyncLifetime
{
    StageCluster _cluster = null!;
    int _asked;

    public async Task InitializeAsync() => _cluster = await StageCluster.Start(["text,prior", "decoder64", "decoder64"]);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    StageRouter Router(TimeSpan reuseFor) => new(_cluster.Client, () =>
    {
        Interlocked.Increment(ref _asked);
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
}
