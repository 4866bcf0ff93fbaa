using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// What a denoiser's output means.
public enum PredictionType
{
    /// The noise eps that was added (DDPM).
    Epsilon,
    /// The clean sample x_0 directly ("sample" in diffusers).
    Sample,
    /// v = sqrt(abar) eps - sqrt(1 - abar) x_0 (Salimans and Ho); stays informative at high noise.
    Velocity,
}

/// Conversions between eps, x_0 and v for a noisy x_t at noise level abar (a tensor broadcastable against x_t).
public static class Parameterization
{
    /// Splits a model prediction into (x_0, eps).
    public static (Tensor X0, Tensor Eps) ToX0AndEps(PredictionType type, Tensor prediction, Tensor xt, Tensor alphaBar)
    {
        using var scope = NewDisposeScope();
        using Scalar one = 1; // held to the end: TorchRuntime says why
        var sqrtA = alphaBar.sqrt();
        var sqrt1mA = (one - alphaBar).sqrt();
        Tensor x0, eps;
        switch (type)
        {
            case PredictionType.Epsilon:
                if (alphaBar.min().item<float>() <= 0)
                    throw new InvalidOperationException("eps-prediction cannot recover x0 where abar = 0 (zero terminal SNR); use v or x0 prediction");
                eps = prediction.alias();
                x0 = (xt - sqrt1mA * prediction) / sqrtA;
                break;
            case PredictionType.Sample:
                x0 = prediction.alias();
                eps = EpsFromX0(xt, x0, alphaBar);
                break;
            case PredictionType.Velocity:
                x0 = sqrtA * xt - sqrt1mA * prediction;
                eps = sqrtA * prediction + sqrt1mA * xt;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
        return (x0.MoveToOuterDisposeScope(), eps.MoveToOuterDisposeScope());
    }

    /// The training target for a model of the given type, given the clean sample and the noise used.
    public static Tensor Target(PredictionType type, Tensor x0, Tensor eps, Tensor alphaBar)
    {
        using var scope = NewDisposeScope();
        using Scalar one = 1; // held to the end: TorchRuntime says why
        var target = type switch
        {
            PredictionType.Epsilon => eps.alias(),
            PredictionType.Sample => x0.alias(),
            PredictionType.Velocity => alphaBar.sqrt() * eps - (one - alphaBar).sqrt() * x0,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };
        return target.MoveToOuterDisposeScope();
    }

    /// eps consistent with x_t and an (edited, e.g. thresholded) x_0. Undefined where abar = 1.
    public static Tensor EpsFromX0(Tensor xt, Tensor x0, Tensor alphaBar)
    {
        using var scope = NewDisposeScope();
        using Scalar one = 1; // held to the end: TorchRuntime says why
        return ((xt - alphaBar.sqrt() * x0) / (one - alphaBar).sqrt()).MoveToOuterDisposeScope();
    }

    /// A 0-dim tensor for a noise level shared by the whole batch.
    public static Tensor Level(double alphaBar) => tensor(alphaBar, float32);
}
