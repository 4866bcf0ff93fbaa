namespace DiffusionCluster.Abstractions;

/// Each sampled stage's options in one request; a stage not listed samples with the model folder's defaults.
/// Compared by value, so a resubmitted request with the same options is the same request.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.SamplingByStage")]
public sealed class SamplingByStage : IEquatable<SamplingByStage>
{
    [Id(0)] readonly Dictionary<CascadeStage, SamplingOptions> _options;

    SamplingByStage(Dictionary<CascadeStage, SamplingOptions> options) => _options = options;

    public static SamplingByStage Default { get; } = new([]);

    /// The stage's options (every field unset when none were given).
    public SamplingOptions this[CascadeStage stage] => _options.GetValueOrDefault(stage) ?? SamplingOptions.Default;

    public IEnumerable<KeyValuePair<CascadeStage, SamplingOptions>> Listed => _options.OrderBy(o => o.Key);

    public SamplingByStage With(CascadeStage stage, SamplingOptions options) =>
        new(new Dictionary<CascadeStage, SamplingOptions>(_options) { [stage] = options });

    public bool Equals(SamplingByStage? other) =>
        other is not null && Listed.Where(o => o.Value != SamplingOptions.Default).SequenceEqual(other.Listed.Where(o => o.Value != SamplingOptions.Default));

    public override bool Equals(object? obj) => Equals(obj as SamplingByStage);

    public override int GetHashCode() =>
        Listed.Where(o => o.Value != SamplingOptions.Default).Aggregate(0, (hash, o) => HashCode.Combine(hash, o.Key, o.Value));

    public override string ToString() => string.Join("; ", Listed.Select(o => $"{o.Key.Name()}: {o.Value}"));
}
