using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Diffusion;

/// The forward process q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) for t = 0..T-1.
/// Holds abar in double precision; tensors are made on demand on the caller's device.
public sealed class NoiseSchedule
{
    public NoiseSchedule(double[] alphasCumprod)
    {
        if (alphasCumprod.Length == 0) throw new ArgumentException("a schedule needs at least one timestep");
        for (int t = 0; t < alphasCumprod.Length; t++)
        {
            double a = alphasCumprod[t];
            if (a < 0 || a >= 1 || (t > 0 && a > alphasCumprod[t - 1]))
                throw new ArgumentException($"alphas_cumprod[{t}] = {a} must lie in [0, 1) and not increase with t");
        }
        AlphasCumprod = alphasCumprod;
    }

    public double[] AlphasCumprod { get; }
    public int Length => AlphasCumprod.Length;

    /// abar at timestep t; t = -1 is the clean image (abar = 1).
    public double AlphaBar(int t) => t < 0 ? 1.0 : AlphasCumprod[t];

    /// DDPM's linear betas (1e-4 .. 0.02 at T = 1000), scaled by 1000/T so any T spans the same noise.
    public static NoiseSchedule Linear(int timesteps)
    {
        double scale = 1000.0 / timesteps;
        double start = scale * 1e-4, end = scale * 0.02;
        var betas = Enumerable.Range(0, timesteps)
            .Select(i => timesteps == 1 ? start : start + (end - start) * i / (timesteps - 1));
        return FromBetas(betas);
    }

    /// Nichol and Dhariwal's cosine schedule: abar(t) = cos^2(((t/T) + s)/(1 + s) * pi/2), betas capped at 0.999.
    public static NoiseSchedule Cosine(int timesteps, double offset = 0.008)
    {
        double F(double u) => Math.Pow(Math.Cos((u + offset) / (1 + offset) * Math.PI / 2), 2);
        var betas = Enumerable.Range(0, timesteps)
            .Select(i => Math.Min(1 - F((i + 1.0) / timesteps) / F((double)i / timesteps), 0.999));
        return FromBetas(betas);
    }

    public static NoiseSchedule FromBetas(IEnumerable<double> betas)
    {
        var abar = new List<double>();
        double running = 1;
        foreach (var beta in betas)
        {
            running *= 1 - beta;
            abar.Add(running);
        }
        return new NoiseSchedule(abar.ToArray());
    }

    /// Lin et al. (2024): shift and scale sqrt(abar) so abar_T = 0 exactly while abar_0 is kept,
    /// so training sees pure noise at the last step, as sampling does. Needs v- or x0-prediction.
    public NoiseSchedule WithZeroTerminalSnr()
    {
        var s = AlphasCumprod.Select(Math.Sqrt).ToArray();
        double first = s[0], last = s[^1];
        var rescaled = s.Select(v => Math.Pow((v - last) * first / (first - last), 2)).ToArray();
        return new NoiseSchedule(rescaled);
    }

    /// Signal-to-noise ratio abar / (1 - abar) at timestep t.
    public double Snr(int t) => AlphaBar(t) / (1 - AlphaBar(t));

    /// abar gathered per sample for integer timesteps (shape [B]) as a [B, 1, ..., 1] tensor broadcastable against x.
    public Tensor AlphaBarFor(Tensor timesteps, int rank, Device device)
    {
        using var table = tensor(AlphasCumprod, float32, device);
        var shape = new long[rank];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        return table.index_select(0, timesteps.to(int64)).reshape(shape);
    }

    /// Samples x_t = sqrt(abar) x_0 + sqrt(1 - abar) eps for a broadcastable abar.
    public static Tensor AddNoise(Tensor x0, Tensor noise, Tensor alphaBar)
    {
        using var scope = NewDisposeScope();
        using Scalar one = 1; // held to the end: TorchRuntime says why
        return (alphaBar.sqrt() * x0 + (one - alphaBar).sqrt() * noise).MoveToOuterDisposeScope();
    }

    /// Samples x_t for one timestep shared by the batch.
    public Tensor AddNoise(Tensor x0, Tensor noise, int t)
    {
        double a = AlphaBar(t);
        using var scope = NewDisposeScope();
        using Scalar signal = Math.Sqrt(a), noiseShare = Math.Sqrt(1 - a); // held to the end: TorchRuntime says why
        return (signal * x0 + noiseShare * noise).MoveToOuterDisposeScope();
    }
}
