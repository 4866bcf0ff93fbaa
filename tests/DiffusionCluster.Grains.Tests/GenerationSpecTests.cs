using DiffusionCluster.Abstractions;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Tests;

public sealed class GenerationSpecTests
{
    [Fact]
    public void The_noise_generator_keeps_only_32_bits_of_a_seed()
    {
        // Why MaxSeed exists: if libtorch ever keeps all 64 bits, this fails and the limit can go.
        float[] Noise(ulong seed)
        {
            using var generator = new Generator(seed);
            using var noise = randn(8, generator: generator);
            return noise.data<float>().ToArray();
        }

        Assert.Equal(Noise(7), Noise(7 + (1UL << 32)));
        Assert.NotEqual(Noise(7), Noise(8));
    }

    [Fact]
    public void A_seed_above_32_bits_is_refused_naming_the_limit_and_the_seed_it_would_repeat()
    {
        var spec = new GenerationSpec { Prompt = "a red star", Seed = GenerationSpec.MaxSeed + 8 };

        var error = Assert.Throws<ArgumentException>(spec.Validate);

        Assert.Equal("seed 4294967303 is above 4294967295: the noise generator keeps 32 bits of a seed, so it would repeat seed 7", error.Message);
        (spec with { Seed = GenerationSpec.MaxSeed }).Validate();
    }
}
