using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Cascade;

namespace DiffusionCluster.Grains.Stages;

/// Between the wire form of a stage's sampling options and the in-process one.
public static class SamplingSpecs
{
    public static SamplingSpec From(StageSampling s) => new(s.Steps, s.Guidance, s.Thresholding, s.Eta, s.AugmentationLevel, s.Layout);

    public static StageSampling ToStageSampling(this SamplingSpec s) => new(s.Steps, s.Guidance, s.Thresholding, s.Eta, s.AugmentationLevel, s.Layout);
}
