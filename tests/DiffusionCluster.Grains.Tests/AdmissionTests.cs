using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Tests;

/// Admission's arithmetic (StageRouter.Saturated): the work ahead of a new request at each of its stages against the
/// time it can wait.
public sealed class AdmissionTests
{
    static SiloDescription Host(string name, CascadeStage stage, int load, double? secondsPerRequest, int ahead = 0) =>
        new(name, "cpu", new Dictionary<CascadeStage, int> { [stage] = load },
            SecondsPerRequest: secondsPerRequest is { } s ? new Dictionary<CascadeStage, double> { [stage] = s } : null,
            Ahead: new Dictionary<CascadeStage, int> { [stage] = ahead });

    static SiloDescription Front(string name, params (CascadeStage Stage, int Ahead)[] ahead) =>
        new(name, "cpu", new Dictionary<CascadeStage, int>(), Ahead: ahead.ToDictionary(a => a.Stage, a => a.Ahead));

    [Fact]
    public void The_requests_ahead_times_the_measured_time_shared_by_the_hosts_is_weighed_against_the_wait_allowed()
    {
        // 12 requests ahead at decoder64 (counted by the front silos running them), 2 s each, 2 hosts: 12 s of work.
        SiloDescription?[] silos =
        [
            Front("front-1", (CascadeStage.Decoder64, 7)), Front("front-2", (CascadeStage.Decoder64, 5)),
            Host("d1", CascadeStage.Decoder64, 2, 2.0), Host("d2", CascadeStage.Decoder64, 2, 2.0), null,
        ];

        Assert.Null(StageRouter.Saturated([CascadeStage.Decoder64], silos, 12));
        var refused = StageRouter.Saturated([CascadeStage.Decoder64], silos, 9);

        Assert.NotNull(refused);
        Assert.Equal(3, refused.RetryAfterSeconds, precision: 6);
        Assert.Equal(1, refused.SlotSeconds, precision: 6); // 2 s a request over 2 hosts
        Assert.Equal("the cluster is saturated: stage decoder64 has 12 requests ahead of this one, about 12 s of work for its 2 hosts, " +
            "more than the 9 s this request can wait within its deadline; retry later or add replicas of this stage", refused.Message);
    }

    [Fact]
    public void A_stage_the_request_does_not_use_or_not_measured_yet_or_without_hosts_adds_nothing()
    {
        SiloDescription?[] silos =
        [
            Front("front", (CascadeStage.Sr256, 100), (CascadeStage.Decoder64, 100)),
            Host("sr", CascadeStage.Sr256, 4, 5.0), Host("d", CascadeStage.Decoder64, 4, null),
        ];

        Assert.Null(StageRouter.Saturated([CascadeStage.Decoder64, CascadeStage.Sr1024], silos, 1));
        Assert.NotNull(StageRouter.Saturated([CascadeStage.Decoder64, CascadeStage.Sr256], silos, 1));
    }

    [Fact]
    public void A_host_queue_longer_than_the_requests_counted_ahead_counts_instead()
    {
        // Work in the queue that no running request accounts for (its request silo did not answer).
        SiloDescription?[] silos = [Host("d", CascadeStage.Decoder64, 10, 1.0, ahead: 2)];

        var refused = StageRouter.Saturated([CascadeStage.Decoder64], silos, 5);

        Assert.Contains("has 10 requests ahead", refused!.Message);
        Assert.Equal(5, refused.RetryAfterSeconds, precision: 6);
    }

    [Fact]
    public void Before_a_stage_is_measured_no_more_are_admitted_ahead_of_it_than_its_queues_hold()
    {
        SiloDescription Unmeasured(string name, int load) => new(name, "cpu", new Dictionary<CascadeStage, int> { [CascadeStage.Decoder64] = load },
            QueueLimits: new Dictionary<CascadeStage, int> { [CascadeStage.Decoder64] = 4 });
        SiloDescription?[] room = [Front("front", (CascadeStage.Decoder64, 7)), Unmeasured("d1", 0), Unmeasured("d2", 0)];
        SiloDescription?[] full = [Front("front", (CascadeStage.Decoder64, 8)), Unmeasured("d1", 0), Unmeasured("d2", 0)];

        Assert.Null(StageRouter.Saturated([CascadeStage.Decoder64], room, 600));
        var refused = StageRouter.Saturated([CascadeStage.Decoder64], full, 600);
        Assert.Equal("the cluster is saturated: stage decoder64 has 8 requests ahead of this one, as many as its 2 hosts' queues hold, " +
            "before its service time is measured; retry later or add replicas of this stage", refused!.Message);
    }

    [Fact]
    public void Refused_requests_are_booked_one_slot_apart_from_the_earliest_time_and_passed_slots_are_free_again()
    {
        var slots = new Requests.RetrySlots();
        var now = DateTimeOffset.UnixEpoch;

        var crowd = Enumerable.Range(0, 10).Select(_ => slots.Next(10, 0.5, now)).ToList();
        // One refused later whose own wait fits later than the booked crowd: its earliest time stands.
        var late = slots.Next(20, 0.5, now);
        // A minute on, every booked return has passed: the next is booked at its earliest time.
        var fresh = slots.Next(3, 0.5, now + TimeSpan.FromSeconds(60));
        var far = slots.Next(5000, 0.5, now + TimeSpan.FromSeconds(60));
        var afterFar = slots.Next(3, 0.5, now + TimeSpan.FromSeconds(60));

        Assert.Equal(Enumerable.Range(0, 10).Select(i => 10 + 0.5 * i), crowd);
        Assert.Equal(20, late, precision: 6);
        Assert.Equal(3, fresh, precision: 6);
        Assert.Equal(Requests.RetrySlots.MaxSeconds, far); // told to come back within the hour; not booked
        Assert.Equal(3.5, afterFar, precision: 6);
    }

    [Fact]
    public void The_queue_serves_each_owner_in_order_of_arrival_with_owners_taking_turns()
    {
        // Key a queues three jobs, then b one, then a another, then c one.
        string[] owners = ["a", "a", "a", "b", "a", "c"];

        var order = Requests.AdmissionQueue.FairOrder(owners);

        // a's first, b's, c's; then a's second, third and fourth.
        Assert.Equal([0, 3, 5, 1, 2, 4], order);
        Assert.Equal(4, Requests.AdmissionQueue.JobsBefore(owners, "b")); // b's second: after the three first jobs and a's second
        Assert.Equal(3, Requests.AdmissionQueue.JobsBefore(owners, "d")); // a new key's first job: after the three first jobs
        Assert.Equal(6, Requests.AdmissionQueue.JobsBefore(owners, "a")); // a's fifth: after everything queued
        Assert.Equal(0, Requests.AdmissionQueue.JobsBefore([], "a"));
    }
}
