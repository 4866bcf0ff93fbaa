using static TorchSharp.torch;

namespace DiffusionCluster.Training.Evaluation;

/// Frechet distance between two sets of embeddings modelled as Gaussians (as FID does in Inception space):
/// |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), in float64 with symmetric eigendecompositions.
public static class FrechetDistance
{
    public static double Compute(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var x = a.to(float64);
        var y = b.to(float64);
        var (muX, covX) = Moments(x);
        var (muY, covY) = Moments(y);
        var rootX = SqrtPsd(covX);
        var middle = SqrtPsd(rootX.matmul(covY).matmul(rootX));
        double meanTerm = (muX - muY).pow(2).sum().item<double>();
        double traceTerm = (covX.trace() + covY.trace() - 2 * middle.trace()).item<double>();
        return meanTerm + traceTerm;
    }

    static (Tensor Mean, Tensor Covariance) Moments(Tensor x)
    {
        var mean = x.mean(new long[] { 0 });
        var centred = x - mean;
        return (mean, centred.t().matmul(centred) / Math.Max(1, x.shape[0] - 1));
    }

    static Tensor SqrtPsd(Tensor matrix)
    {
        var symmetric = (matrix + matrix.t()) / 2;
        var (values, vectors) = linalg.eigh(symmetric);
        return vectors.matmul(diag(values.clamp_min(0).sqrt())).matmul(vectors.t());
    }
}
