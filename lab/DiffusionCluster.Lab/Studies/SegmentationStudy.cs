using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Training.Trainers;

namespace DiffusionCluster.Lab.Studies;

/// Label-efficient segmentation against its baseline: the per-pixel classifier (`train segmentation`) trained on
/// 10, 20 and 50 labelled renders, on the 64px decoder's activations and on raw pixels; mean IoU over the classes
/// (background and the 8 shapes) on held-out renders.
public sealed class SegmentationStudy(CascadePipeline cascade, TextWriter log)
{
    public sealed record Options(int[] Labelled, int HeldOut = 50, int Steps = 800, int[]? Timesteps = null, int[]? Blocks = null);

    public StudyTable Run(Options options)
    {
        var trainer = new SegmentationTrainer(cascade.Device);
        var trainScenes = SegmentationTrainer.TrainScenes(options.Labelled.Max());
        var heldOut = SegmentationTrainer.HeldOutScenes(options.HeldOut);
        var classes = SegmentationTrainer.Classes;
        var sources = new (string Name, SegmentationConfig Config)[]
        {
            ("decoder features", new SegmentationConfig
            {
                Classes = classes, Timesteps = options.Timesteps ?? new SegmentationConfig().Timesteps, Blocks = options.Blocks ?? new SegmentationConfig().Blocks,
            }),
            ("raw pixels", new SegmentationConfig { Classes = classes, Timesteps = [], Blocks = [], InChannels = 3 }),
        };
        var results = new Dictionary<(string, int), double>();
        foreach (var (name, config) in sources)
        {
            var decoder = config.UsesDecoder ? cascade.Decoder : null;
            foreach (var n in options.Labelled)
            {
                var segmenter = trainer.Train(decoder, config, trainScenes.Take(n).ToList(), options.Steps, seed: (ulong)n);
                results[(name, n)] = SegmentationTrainer.MeanIou(segmenter, heldOut);
                log.WriteLine($"segmentation: {name}, {n} labelled: mean IoU {results[(name, n)]:P1}");
            }
        }
        var rows = options.Labelled.Select(n => (IReadOnlyList<string>)[$"{n}", StudyReport.Percent(results[(sources[0].Name, n)]), StudyReport.Percent(results[(sources[1].Name, n)])]).ToList();
        return new StudyTable($"Mean IoU on {options.HeldOut} held-out renders ({classes.Length} classes: background and 8 shapes)",
            ["labelled training images", $"decoder features (64px U-Net, t = {string.Join(", ", sources[0].Config.Timesteps)}, blocks {string.Join(", ", sources[0].Config.Blocks)})",
             "raw pixels (same classifier)"], rows,
            "Per-pixel MLP (64 hidden units) on standardised features; mean IoU over the classes, intersections and unions summed over the held-out set. " +
            $"Answering \"background\" everywhere scores {StudyReport.Percent(SegmentationTrainer.AllBackgroundIou(heldOut))} on the same renders.");
    }
}
