using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Evaluation;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

public class EvaluationTests
{
    [Fact]
    public void Psnr_and_ssim_are_perfect_for_identical_images_and_lower_for_noisy_ones()
    {
        using var image = Renderer.RenderTensor(SceneGenerator.Sample(1, Split.Train), 64).unsqueeze(0);
        using var noisy = (image + randn_like(image) * 0.1).clamp(-1, 1);

        Assert.True(ImageQuality.Psnr(image, image) > 100);
        Assert.Equal(1.0, ImageQuality.Ssim(image, image), 4);
        Assert.InRange(ImageQuality.Psnr(noisy, image), 20, 30);
        Assert.True(ImageQuality.Ssim(noisy, image) < 0.9);
    }

    [Fact]
    public void Psnr_matches_its_closed_form()
    {
        using var a = zeros(1, 3, 8, 8);
        using var b = full(new long[] { 1, 3, 8, 8 }, 0.2f); // 0.1 apart in [0, 1] units: MSE 0.01, PSNR 20 dB

        Assert.Equal(20, ImageQuality.Psnr(a, b), 3);
    }

    [Fact]
    public void Frechet_distance_is_zero_for_one_set_and_grows_with_a_mean_shift()
    {
        using var a = randn(new long[] { 500, 8 }, generator: new TorchSharp.torch.Generator(1));
        using var shifted = a + 2;

        Assert.Equal(0, FrechetDistance.Compute(a, a), 6);
        Assert.Equal(8 * 4, FrechetDistance.Compute(a, shifted), 3); // |mu1 - mu2|^2 = 8 x 2^2, covariances equal
    }

    [Fact]
    public void The_dev_set_is_held_out_and_round_trips_through_jsonl()
    {
        var prompts = BenchPrompt.DevSet();
        var path = Path.GetTempFileName();
        BenchPrompt.Write(path, prompts);

        var read = BenchPrompt.Read(path);
        File.Delete(path);

        Assert.Equal(100, read.Count);
        Assert.All(read, p => Assert.Contains(p.Scene.Objects, SceneGenerator.IsHeldOut));
        Assert.Equal(prompts.Select(p => p.Prompt), read.Select(p => p.Prompt));
        Assert.Equal(prompts[5].Scene.Summary, read[5].Scene.Summary);
    }

    [Fact]
    public void Prompts_are_picked_by_object_count_in_file_order()
    {
        var prompts = BenchPrompt.DevSet();

        var pairs = BenchPrompt.WithObjects(prompts, 2).ToList();

        Assert.Equal(40, pairs.Count);
        Assert.All(pairs, p => Assert.Equal(2, p.Scene.Objects.Count));
        Assert.Equal(Enumerable.Range(40, 40), pairs.Select(p => p.Id));
        Assert.Equal(100, BenchPrompt.WithObjects(prompts, 0).Count());
    }

    [Fact]
    public void A_malformed_prompt_file_names_the_line()
    {
        var path = Path.GetTempFileName();
        File.WriteAllLines(path, ["{\"id\":0,\"prompt\":\"x\",\"scene\":{\"background\":\"mauve\",\"objects\":[]}}"]);

        var error = Assert.Throws<ArgumentException>(() => BenchPrompt.Read(path));
        File.Delete(path);

        Assert.Contains("line 1", error.Message);
        Assert.Contains("mauve", error.Message);
    }
}
