using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// Spherical interpolation per row, with the angle from a true dot product (sum of products over the
/// feature dimension), as unCLIP interpolates CLIP embeddings and starting noise.
public static class Slerp
{
    /// a, b: [B, ...]; returns [B, ...] at fraction t along the great circle from a to b, with norm
    /// interpolated linearly (equal norms stay equal). Nearly parallel rows fall back to linear interpolation.
    public static Tensor Interpolate(Tensor a, Tensor b, double t)
    {
        if (!a.shape.SequenceEqual(b.shape)) throw new ArgumentException($"slerp needs equal shapes; got [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}]");
        using var scope = NewDisposeScope();
        var flatA = a.flatten(1);
        var flatB = b.flatten(1);
        var normA = flatA.norm(1, keepdim: true);
        var normB = flatB.norm(1, keepdim: true);
        var unitA = flatA / normA;
        var unitB = flatB / normB;
        var cosine = (unitA * unitB).sum(1, keepdim: true).clamp(-1, 1);
        var omega = cosine.acos();
        var sine = omega.sin();
        var parallel = sine.abs() < 1e-6;
        var safeSine = where(parallel, ones_like(sine), sine);
        var wa = where(parallel, full_like(sine, 1 - t), ((1 - t) * omega).sin() / safeSine);
        var wb = where(parallel, full_like(sine, t), (t * omega).sin() / safeSine);
        var direction = wa * unitA + wb * unitB;
        var norm = (1 - t) * normA + t * normB;
        return (direction * norm).view(a.shape).MoveToOuterDisposeScope();
    }
}
