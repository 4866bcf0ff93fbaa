using DiffusionCluster.ServiceDefaults;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Grains.Hosting;
using DiffusionCluster.Grains.Stages;
using DiffusionCluster.Models.Cascade;

namespace DiffusionCluster.Grains.Tests;

/// Silo and cluster settings fail at start-up with the value and what is allowed.
public sealed class ConfigurationTests
{
    [Fact]
    public void A_missing_model_folder_is_named_in_the_error()
    {
        var options = new SiloStageOptions { Stages = "decoder64", ModelFolder = "/nonexistent/cascade" };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("/nonexistent/cascade\" does not exist", error.Message);
    }

    [Fact]
    public void A_model_folder_without_a_hosted_stage_component_is_refused()
    {
        // The bundled index (every stage and component listed) over empty component folders.
        var folder = Directory.CreateTempSubdirectory("dc-partial-").FullName;
        var index = Path.Combine(RepositoryRoot.Path, "models", "shapes-cascade", "model_index.json");
        File.Copy(index, Path.Combine(folder, "model_index.json"));
        foreach (var component in DiffusionCluster.Models.Weights.ModelIndex.ReadOrEmpty(folder, "ShapesCascade").Components.Keys)
            Directory.CreateDirectory(Path.Combine(folder, component));

        var error = Assert.Throws<ArgumentException>(new SiloStageOptions { Stages = "decoder64", ModelFolder = folder }.Validate);

        Assert.Contains("has no decoder64/config.json, which stage decoder64 needs", error.Message);
    }

    [Fact]
    public void A_folder_that_is_not_a_cascade_is_refused_naming_what_is_missing()
    {
        var folder = Directory.CreateTempSubdirectory("dc-empty-").FullName;

        var error = Assert.Throws<ArgumentException>(new SiloStageOptions { Stages = "decoder64", ModelFolder = folder }.Validate);

        Assert.Contains("is not a cascade model folder", error.Message);
        Assert.Contains("model_index.json: file is missing", error.Message);
    }

    [Theory]
    [InlineData("text,upscale", "unknown stage \"upscale\"; stages are text, prior, decoder64, sr256, sr1024")]
    [InlineData("", "is empty")]
    [InlineData("sr256,sr256", "stage \"sr256\" is listed twice")]
    public void Stage_lists_are_checked(string stages, string expected)
    {
        var error = Assert.Throws<ArgumentException>(new SiloStageOptions { Stages = stages, ModelFolder = TinyCascadeFolder.Path }.Validate);

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Batching_limits_are_checked_per_stage()
    {
        var options = new SiloStageOptions { Stages = "all", ModelFolder = TinyCascadeFolder.Path };
        options.Batching["sr1024"] = new() { MaxBatchSize = 0 };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal("sr1024: MaxBatchSize = 0; allowed 1 to 256", error.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void The_deadline_wait_share_is_checked(double share)
    {
        var options = new SiloStageOptions { Stages = "all", ModelFolder = TinyCascadeFolder.Path, DeadlineWaitShare = share };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal($"Silo:DeadlineWaitShare = {share}; allowed 0.05 to 0.95", error.Message);
    }

    [Theory]
    [InlineData("cuda", "fp32", "device \"cuda\" was asked for but CUDA cannot be initialised here")]
    [InlineData("cuda:1", "fp32", "device \"cuda:1\" was asked for but CUDA cannot be initialised here")]
    [InlineData("cpu", "bf16", "precision bf16 needs a CUDA device")]
    [InlineData("tpu", "fp32", "device \"tpu\" is not one of cpu, cuda, cuda:N")]
    public void A_silo_that_cannot_use_its_device_refuses_to_start_saying_why(string device, string precision, string expected)
    {
        // No silent fallback to the CPU: the stage host throws while the silo builds its services.
        var options = Microsoft.Extensions.Options.Options.Create(new SiloStageOptions
        {
            Stages = "text", ModelFolder = TinyCascadeFolder.Path, Device = device, Precision = precision,
        });

        var error = Assert.ThrowsAny<Exception>(() => new HostedStages(options));

        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("localhost", "localhost", 30000)]
    [InlineData("localhost:30100", "localhost", 30100)]
    [InlineData("Host=db;Database=dc", "postgres", 30000)]
    public void A_cluster_argument_is_localhost_with_a_port_or_a_connection_string(string text, string membership, int port)
    {
        var cluster = ClusterConnection.ForClient(text);

        Assert.Equal(membership, cluster.Membership);
        Assert.Equal(port, cluster.GatewayPort);
    }

    [Fact]
    public void An_unknown_membership_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(new ClusterConnection { Membership = "consul" }.Validate);

        Assert.Equal("Cluster:Membership = \"consul\"; allowed localhost or postgres", error.Message);
    }

    [Fact]
    public void A_payload_over_the_message_limit_fails_before_sending()
    {
        MessageLimits.Check("small", 12L * 1024 * 1024);

        var error = Assert.Throws<ArgumentException>(() => MessageLimits.Check("the input of stage sr1024", 200L * 1024 * 1024));

        Assert.Contains("the input of stage sr1024 is 200.0 MiB; a cluster message carries at most 99 MiB", error.Message);
    }
}
