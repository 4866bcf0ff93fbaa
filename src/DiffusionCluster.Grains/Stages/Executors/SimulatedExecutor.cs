using DiffusionCluster.Abstractions;
using DiffusionCluster.Diffusion;
using DiffusionCluster.Grains.Capacity;

namespace DiffusionCluster.Grains.Stages.Executors;

/// Stands in for a stage's network on a simulated-compute silo (Silo:SimulatedProfile): holds the batcher's thread
/// for the time the stage's measured profile gives for the batch, then returns zero-filled outputs of the stage's
/// kind (image stages at their real size, so the wire carries real image bytes). Grains, routing, batching, queues,
/// telemetry and membership around it are the real ones: this is how capacity is tried at a scale the machine's
/// cores could not compute.
public sealed class SimulatedExecutor(StageDescriptor stage, StageTimings timings) : IBatchExecutor
{
    public void Load() { }

    /// Any prompt and options are accepted: there is no model to check them against.
    public void Validate(StageInput input) { }

    public int? Steps(StageInput input) => timings.Steps > 0 ? input.Sampling?.Steps ?? timings.Steps : null;

    public IReadOnlyList<BatchRowOutput> Run(IReadOnlyList<StageInput> batch, StepProgress progress, CancellationToken cancellation)
    {
        int steps = Steps(batch[0]) ?? 1;
        var seconds = timings.Seconds(batch.Count) * (timings.Steps > 0 ? (double)steps / timings.Steps : 1);
        var perStep = TimeSpan.FromSeconds(seconds / steps);
        for (int step = 1; step <= steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            Thread.Sleep(perStep);
            progress(step, steps, null);
        }
        return batch.Select(Output).ToList();
    }

    BatchRowOutput Output(StageInput input) => stage.Kind switch
    {
        StageKind.Text => new(Text: new TextFeatures(Zeros(1, 1, 1), Zeros(1, 1), Zeros(1, 1)), Caption: new ComposedCaption(input.Prompt ?? "", [])),
        StageKind.Prior => new(Tensor: Zeros(1, 1)),
        _ => new(Tensor: Zeros(1, 3, stage.Size, stage.Size)),
    };

    static WireTensor Zeros(params long[] shape) => new(shape, new float[shape.Aggregate(1L, (a, b) => a * b)]);
}
