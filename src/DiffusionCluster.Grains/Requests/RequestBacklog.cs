using System.Collections.Concurrent;
using DiffusionCluster.Abstractions;

namespace DiffusionCluster.Grains.Requests;

/// This silo's running requests, counted at every stage they have not yet passed: summed over the cluster, the
/// requests ahead of a new one at each stage, which admission weighs against the new request's deadline. A silo
/// singleton.
public sealed class RequestBacklog
{
    readonly ConcurrentDictionary<CascadeStage, int> _ahead = new();

    public IReadOnlyDictionary<CascadeStage, int> Ahead() => _ahead.Where(s => s.Value > 0).ToDictionary(s => s.Key, s => s.Value);

    /// Counts a request at each of its stages until it passes them (or ends, when the tracker is disposed).
    public Tracker Track(IEnumerable<CascadeStage> stages) => new(this, stages);

    public sealed class Tracker : IDisposable
    {
        readonly RequestBacklog _backlog;
        readonly HashSet<CascadeStage> _left;

        internal Tracker(RequestBacklog backlog, IEnumerable<CascadeStage> stages)
        {
            _backlog = backlog;
            _left = [.. stages];
            foreach (var stage in _left) _backlog._ahead.AddOrUpdate(stage, 1, (_, n) => n + 1);
        }

        public void Passed(CascadeStage stage)
        {
            if (_left.Remove(stage)) _backlog._ahead.AddOrUpdate(stage, 0, (_, n) => n - 1);
        }

        public void Dispose()
        {
            foreach (var stage in _left.ToList()) Passed(stage);
        }
    }
}
