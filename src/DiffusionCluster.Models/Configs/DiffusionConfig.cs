using DiffusionCluster.Diffusion;

namespace DiffusionCluster.Models.Configs;

/// How a denoiser was trained: its noise schedule and what it predicts. Sampling must use the same.
public sealed record DiffusionConfig
{
    public string Schedule { get; init; } = "cosine";
    public int Timesteps { get; init; } = 1000;
    public PredictionType Prediction { get; init; } = PredictionType.Velocity;
    public bool ZeroTerminalSnr { get; init; } = true;

    public NoiseSchedule BuildSchedule()
    {
        var schedule = Schedule switch
        {
            "cosine" => NoiseSchedule.Cosine(Timesteps),
            "linear" => NoiseSchedule.Linear(Timesteps),
            _ => throw new ArgumentException($"schedule \"{Schedule}\" is not one of cosine, linear"),
        };
        return ZeroTerminalSnr ? schedule.WithZeroTerminalSnr() : schedule;
    }

    public void Validate()
    {
        if (Timesteps is < 2 or > 100_000) throw new ArgumentException($"diffusion.timesteps = {Timesteps} must be in [2, 100000]");
        if (ZeroTerminalSnr && Prediction == PredictionType.Epsilon)
            throw new ArgumentException("diffusion.zero_terminal_snr needs prediction v or sample: eps cannot recover x0 at abar = 0");
        BuildSchedule();
    }
}
