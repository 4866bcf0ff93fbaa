using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Tests;

/// Each diffusion stage samples with the ODE solver its options name (the model folder's sampling.json by default).
public class SolverTests
{
    static GenerationSpec Request(string solver, int steps) => new()
    {
        Prompt = "a red circle", Size = 64, Seed = 5,
        Prior = new SamplingOptions(steps, 1, "none", Solver: solver), Decoder64 = new SamplingOptions(steps, 2, "dynamic:0.95:1.5", Solver: solver),
    };

    [Fact]
    public void Dpm_solver_runs_the_steps_it_is_given_and_draws_its_own_image_deterministically()
    {
        var pipeline = new CascadePipeline(TinyCascadeFolder.Path, CPU);
        var steps = new Dictionary<string, int>();
        var (dpm, _, _) = pipeline.Generate(Request(SamplingOptions.DpmSolver, 4), (stage, done, total) => steps[stage] = total);
        var (again, _, _) = pipeline.Generate(Request(SamplingOptions.DpmSolver, 4));
        var (ddim, _, _) = pipeline.Generate(Request(SamplingOptions.Ddim, 4));

        using (dpm)
        using (again)
        using (ddim)
        {
            Assert.Equal(4, steps["prior"]);
            Assert.Equal(4, steps["decoder64"]);
            Assert.Equal(0, (dpm - again).abs().max().item<float>());
            Assert.True((dpm - ddim).abs().max().item<float>() > 1e-4, "the two solvers visit different timesteps and must not give the same image");
        }
    }

    [Fact]
    public void Eta_with_the_deterministic_solver_is_refused_naming_both()
    {
        var error = Assert.Throws<ArgumentException>(() => new SamplingOptions(Eta: 0.5, Solver: SamplingOptions.DpmSolver).Validate("decoder64"));
        Assert.Equal("decoder64: eta = 0.5 needs solver ddim; dpm++2m is deterministic (eta 0)", error.Message);
        var unknown = Assert.Throws<ArgumentException>(() => new SamplingOptions(Solver: "euler").Validate("prior"));
        Assert.Equal("prior: solver \"euler\" is not one of ddim, dpm++2m", unknown.Message);
    }
}
