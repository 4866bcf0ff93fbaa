using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Loop;

/// One trainable stage of the cascade. The loop owns optimisation, EMA, checkpoints and logging; a stage
/// owns its networks, its data and its loss.
public interface ITrainer
{
    /// Name used in logs and checkpoints, e.g. "decoder64".
    string Name { get; }

    /// The trained parameters live here (frozen helpers such as a CLIP encoder do not).
    nn.Module Trainable { get; }

    /// Loss for one batch. Everything random must come from the generator (seeded per step), so a resumed
    /// run sees exactly the batches and noise the uninterrupted one would have.
    Tensor Loss(long step, int batchSize, Generator generator);

    /// Writes the shipped weights (the EMA copy, loaded into Trainable by the loop) into the model folder.
    void Export(string modelFolder);
}
