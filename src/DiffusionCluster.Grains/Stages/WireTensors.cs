using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Grains.Stages;

/// Tensors to and from their wire form, one request (row) at a time.
public static class WireTensors
{
    public static WireTensor FromRow(Tensor batch, long row)
    {
        using var scope = NewDisposeScope();
        var t = batch[row].unsqueeze(0).to(float32).cpu().contiguous();
        return new WireTensor(t.shape, t.data<float>().ToArray());
    }

    public static Tensor ToTensor(this WireTensor wire, Device device) =>
        tensor(wire.Values, wire.Shape, float32).to(device);

    /// Rows of several requests stacked into one batch tensor.
    public static Tensor Stack(IEnumerable<WireTensor> rows, Device device)
    {
        using var scope = NewDisposeScope();
        return cat(rows.Select(r => r.ToTensor(CPU)).ToArray()).to(device).MoveToOuterDisposeScope();
    }

    public static TextFeatures TextRow(TextEncoding text, long row) =>
        new(FromRow(text.Tokens, row), FromRow(text.Mask, row), FromRow(text.Pooled, row), text.Ids is null ? null : FromRow(text.Ids, row));

    public static TextEncoding StackText(IEnumerable<TextFeatures> rows, Device device)
    {
        var list = rows.ToList();
        using var scope = NewDisposeScope();
        var mask = Stack(list.Select(r => r.Mask), device).gt(0.5);
        return new TextEncoding(
            Stack(list.Select(r => r.Tokens), device).MoveToOuterDisposeScope(),
            mask.MoveToOuterDisposeScope(),
            Stack(list.Select(r => r.Pooled), device).MoveToOuterDisposeScope(),
            list.All(r => r.Ids is not null) ? Stack(list.Select(r => r.Ids!), device).to(int64).MoveToOuterDisposeScope() : null);
    }
}
