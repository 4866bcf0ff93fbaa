namespace DiffusionCluster.Abstractions;

/// A float32 tensor on the wire between stages: shape and row-major values. Immutable, so Orleans does not
/// deep-copy it on local calls.
[GenerateSerializer, Immutable, Alias("DiffusionCluster.WireTensor")]
public sealed record WireTensor([property: Id(0)] long[] Shape, [property: Id(1)] float[] Values)
{
    public long Bytes => 4L * Values.Length;

    /// Equal by content, so a resubmitted request carrying an image compares equal to the original.
    public bool Equals(WireTensor? other) =>
        other is not null && Shape.AsSpan().SequenceEqual(other.Shape) && Values.AsSpan().SequenceEqual(other.Values);

    public override int GetHashCode() => HashCode.Combine(Shape.Length, Values.Length, Values.Length > 0 ? Values[0] : 0);
}

/// The text encoder's output for one prompt: token features, mask, pooled embedding and the token ids (as floats).
[GenerateSerializer, Immutable, Alias("DiffusionCluster.TextFeatures")]
public sealed record TextFeatures(
    [property: Id(0)] WireTensor Tokens,
    [property: Id(1)] WireTensor Mask,
    [property: Id(2)] WireTensor Pooled,
    [property: Id(3)] WireTensor? Ids = null);
