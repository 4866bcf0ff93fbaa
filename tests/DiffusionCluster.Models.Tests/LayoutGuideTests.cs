using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Tests.Shared;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffusionCluster.Models.Tests;

public class LayoutGuideTests
{
    static readonly CascadePipeline Cascade = new(TinyCascadeFolder.Path, CPU);

    static readonly Lazy<CascadePipeline> WithoutLayoutModel = new(() =>
    {
        var copy = Directory.CreateTempSubdirectory("dc-no-layout-").FullName;
        foreach (var file in Directory.EnumerateFiles(TinyCascadeFolder.Path, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(TinyCascadeFolder.Path, file);
            if (relative.StartsWith(CascadeFolder.Layout + Path.DirectorySeparatorChar, StringComparison.Ordinal)) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(copy, relative))!);
            File.Copy(file, Path.Combine(copy, relative));
        }
        var index = CascadeFolder.Index(copy);
        (index with { Components = index.Components.Where(c => c.Key != CascadeFolder.Layout).ToDictionary() }).Write(copy);
        return new CascadePipeline(copy, CPU);
    });

    static Tensor Sample(double? layout, CascadePipeline? cascade = null)
    {
        cascade ??= Cascade;
        using var text = cascade.Text.Encode(["a red circle on white background", "a small blue square"]);
        using var embedding = cascade.Prior.Sample(text, [3, 4], new SamplingOptions(2, 1, "none"));
        // DDIM, whose last step starts at t = 0: the random tiny decoder's clean estimate from a noisier t (DPM-Solver++'s
        // last step) is mostly clipped, which would hide the low-pass the guide sets.
        return cascade.Decoder.Sample(text, embedding, null, [3, 4], new SamplingOptions(4, 2, "dynamic:0.95:1.5", Layout: layout, Solver: SamplingOptions.Ddim));
    }

    [Fact]
    public void Held_for_the_whole_trajectory_the_sample_has_the_layout_models_picture_as_its_low_pass()
    {
        Assert.True(Cascade.Decoder.HasLayout);
        using var text = Cascade.Text.Encode(["a red circle on white background", "a small blue square"]);
        using var picture = Cascade.Decoder.Layout(text);
        using var guided = Sample(1);
        using var free = Sample(0);

        // The last ILVR step sets the low-pass exactly; the final clamp to [-1, 1] may move blocks holding a clipped pixel.
        using var unclipped = F.max_pool2d(guided.abs(), 4) < 0.999f;
        using var guidedGap = ((F.avg_pool2d(guided, 4) - picture).abs() * unclipped).max();
        using var freeGap = (F.avg_pool2d(free, 4) - picture).abs().mean();
        Assert.True(unclipped.to(float32).mean().item<float>() > 0.5f, "most 4x4 blocks hold no clipped pixel");
        Assert.True(guidedGap.item<float>() < 1e-4f, $"guided sample's 16 px content is {guidedGap.item<float>():F6} from the picture");
        Assert.True(freeGap.item<float>() > 0.05f, $"the unguided sample's is {freeGap.item<float>():F4}");
    }

    [Fact]
    public void Without_a_share_a_folder_with_a_layout_model_is_held_for_its_default_share()
    {
        Assert.Equal(0.9, Cascade.Decoder.Defaults.Layout);
        using var byDefault = Sample(null);
        using var atDefault = Sample(Cascade.Decoder.Defaults.Layout);
        using var free = Sample(0);

        Assert.Equal(0, Tiny.MaxAbsDiff(byDefault, atDefault));
        Assert.True(Tiny.MaxAbsDiff(byDefault, free) > 1e-3);
    }

    [Fact]
    public void Without_a_share_a_folder_without_a_layout_model_samples_unguided_and_an_asked_share_is_refused()
    {
        var cascade = WithoutLayoutModel.Value;
        Assert.False(cascade.Decoder.HasLayout);
        using var byDefault = Sample(null, cascade);
        using var free = Sample(0, cascade);
        Assert.Equal(0, Tiny.MaxAbsDiff(byDefault, free));

        var error = Assert.Throws<ArgumentException>(() => cascade.Generate(new GenerationSpec
        {
            Prompt = "a red circle", Decoder64 = new SamplingOptions { Layout = 0.7 },
        }));
        Assert.Contains("layout = 0.7 needs a layout model and the model folder has none", error.Message);
    }

    [Fact]
    public void A_share_outside_zero_to_one_is_refused_naming_the_limit()
    {
        var error = Assert.Throws<ArgumentException>(() => Sample(1.5));
        Assert.Contains("layout = 1.5; allowed 0 to 1", error.Message);
    }
}
