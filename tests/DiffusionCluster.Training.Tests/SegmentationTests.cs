using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Trainers;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Tests;

/// The segmentation study's data and training: exact label masks from the renderer, too few labelled images
/// refused, and a raw-pixel classifier that learns the background on a handful of renders.
public class SegmentationTests
{
    static readonly string ModelFolder = Path.Combine(DiffusionCluster.Tests.Shared.RepositoryRoot.Path, "models", "shapes-cascade");

    [Fact]
    public void Label_masks_mark_each_object_with_its_shape_and_agree_across_resolutions()
    {
        var scene = new Scene("white", [new SceneObject(ShapeKind.Square, "red", SizeClass.Large, Position.Center)]);

        var small = Renderer.Labels(scene, 64);
        var large = Renderer.Labels(scene, 256);

        Assert.Equal(1 + (int)ShapeKind.Square, small[32 * 64 + 32]);
        Assert.Equal(0, small[0]);
        // The 64 px mask matches the 256 px mask sampled at the same pixel centres, except along edges.
        int agree = Enumerable.Range(0, 64 * 64).Count(i => small[i] == large[(4 * (i / 64) + 2) * 256 + 4 * (i % 64) + 2]);
        Assert.True(agree >= 64 * 64 * 0.98, $"{agree} of 4096 pixels agree");
    }

    [Fact]
    public void Fewer_labelled_images_than_classes_are_refused()
    {
        var trainer = new SegmentationTrainer(CPU);
        var config = new SegmentationConfig { Classes = SegmentationTrainer.Classes, Timesteps = [], Blocks = [], InChannels = 3 };
        var scenes = Enumerable.Range(0, 5).Select(i => SceneGenerator.Sample(i, Split.Train)).ToList();

        var error = Assert.Throws<ArgumentException>(() => trainer.Train(null, config, scenes, steps: 800, seed: 1));

        Assert.Equal("5 labelled images for 9 classes; label at least one image per class (9)", error.Message);
    }

    [Fact]
    public void A_raw_pixel_classifier_trained_on_ten_renders_finds_the_background()
    {
        var trainer = new SegmentationTrainer(CPU);
        var config = new SegmentationConfig { Classes = SegmentationTrainer.Classes, Timesteps = [], Blocks = [], InChannels = 3 };
        var train = Enumerable.Range(0, 10).Select(i => SceneGenerator.Sample(100 + i, Split.Train)).ToList();
        var heldOut = Enumerable.Range(0, 5).Select(i => SceneGenerator.Sample(200 + i, Split.HeldOut)).ToList();

        var segmenter = trainer.Train(null, config, train, steps: 200, seed: 1);
        double meanIou = SegmentationTrainer.MeanIou(segmenter, heldOut);

        Assert.InRange(meanIou, 0.05, 1.0);
    }
}

/// The bundled segmentation head (segment fit, 50 labelled renders) on held-out renders it never saw.
public class BundledSegmentationTests
{
    [Fact]
    public void The_bundled_head_segments_held_out_renders_above_chance()
    {
        var folder = Path.Combine(DiffusionCluster.Tests.Shared.RepositoryRoot.Path, "models", "shapes-cascade");
        var cascade = new CascadePipeline(folder, CPU);
        var segmenter = DiffusionCluster.Models.Editing.Segmenter.Load(folder, cascade);
        var heldOut = Enumerable.Range(0, 8).Select(i => SceneGenerator.Sample(6_000_000 + i, Split.HeldOut)).ToList();

        double meanIou = SegmentationTrainer.MeanIou(segmenter, heldOut);

        double allBackground = SegmentationTrainer.AllBackgroundIou(heldOut);
        Assert.True(meanIou > allBackground + 0.02, $"mean IoU {meanIou:P1}; all-background {allBackground:P1}");
    }
}
