using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Weights;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Editing;

/// DiffAE's attribute directions: for each attribute ("red", "circle", ...) the unit normal of a linear
/// classifier fitted in the semantic latent (our CLIP image embedding z_i) on labelled examples. Moving z_i
/// along it, with the DDIM-inverted x_T kept, changes that attribute and little else. Stored beside the
/// cascade as attributes/directions.safetensors (one [E] tensor per attribute).
public sealed class AttributeDirections
{
    public const string Folder = "attributes";
    public const string File = "directions.safetensors";
    public const double MaxAmount = 2;

    readonly Dictionary<string, Tensor> _directions;

    public AttributeDirections(IReadOnlyDictionary<string, Tensor> directions)
    {
        if (directions.Count == 0) throw new ArgumentException("no attribute directions");
        _directions = directions.ToDictionary(d => d.Key, d => d.Value, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyCollection<string> Names => _directions.Keys.Order().ToList();

    public static string PathIn(string modelFolder) => Path.Combine(modelFolder, Folder, File);

    public static AttributeDirections Load(string modelFolder)
    {
        var path = PathIn(modelFolder);
        if (!System.IO.File.Exists(path))
            throw new ModelFormatException(Path.Combine(modelFolder, Folder), $"{File} is missing; fit it with `diffusion-cluster train attributes`");
        var (entries, _) = Safetensors.ReadHeader(path);
        var tensors = entries.ToDictionary(e => e.Name, e => zeros(e.Shape));
        Safetensors.LoadInto(path, tensors);
        return new AttributeDirections(tensors);
    }

    public void Save(string modelFolder)
    {
        Directory.CreateDirectory(Path.Combine(modelFolder, Folder));
        Safetensors.Save(PathIn(modelFolder), _directions);
        CascadeFolder.Index(modelFolder).With(Folder, nameof(AttributeDirections)).Write(modelFolder);
    }

    /// The unit direction of an attribute; an unknown name is an error that lists the known ones.
    public Tensor this[string attribute] => _directions.TryGetValue(attribute.Trim(), out var d)
        ? d
        : throw new ArgumentException($"unknown attribute \"{attribute}\"; known: {string.Join(", ", Names)}");

    /// z_i moved along the attribute by amount (in units of the embedding's norm; negative removes it),
    /// renormalised onto the sphere the decoder was trained on.
    public Tensor Move(Tensor imageEmbedding, string attribute, double amount)
    {
        if (!(Math.Abs(amount) <= MaxAmount)) throw new ArgumentException($"attribute amount = {amount}; allowed -{MaxAmount} to {MaxAmount}");
        using var scope = NewDisposeScope();
        var direction = this[attribute].to(imageEmbedding.device);
        double norm = Math.Sqrt(imageEmbedding.shape[^1]);
        return ClipSpace.Normalise(imageEmbedding + amount * norm * direction.unsqueeze(0)).MoveToOuterDisposeScope();
    }

    /// Mean of the true-positive and true-negative rates: 50% for a classifier that always says no.
    public static double BalancedAccuracy(Tensor predicted, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var p = predicted.to(float32);
        var y = labels.to(float32);
        double truePositive = (p * y).sum().item<float>() / Math.Max(1, y.sum().item<float>());
        double trueNegative = ((1 - p) * (1 - y)).sum().item<float>() / Math.Max(1, (1 - y).sum().item<float>());
        return (truePositive + trueNegative) / 2;
    }

    /// Fits one direction: logistic regression of the labels on embeddings [N, E] (entries of unit variance),
    /// positives weighted by their rarity so a rare attribute is not ignored; full-batch Adam (the data are a few
    /// hundred points). Returns the unit normal and the balanced training accuracy (mean of the per-class rates).
    public static (Tensor Direction, double Accuracy) Fit(Tensor embeddings, Tensor labels, int steps = 500)
    {
        if (labels.sum().item<float>() is var positives && (positives == 0 || positives == labels.shape[0]))
            throw new ArgumentException($"an attribute direction needs labelled examples of both kinds; got {positives} of {labels.shape[0]} positive");
        using var scope = NewDisposeScope();
        var x = embeddings;
        var y = labels.to(float32);
        var positiveWeight = ((y.shape[0] - positives) / positives) * ones(1);
        var w = new TorchSharp.Modules.Parameter(zeros(x.shape[^1]));
        var b = new TorchSharp.Modules.Parameter(zeros(1));
        var optimizer = optim.Adam([w, b], lr: 0.01);
        for (int i = 0; i < steps; i++)
        {
            using var step = NewDisposeScope();
            optimizer.zero_grad();
            var logits = x.matmul(w) + b;
            var loss = nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weights: positiveWeight) + 1e-3 * w.pow(2).sum();
            loss.backward();
            optimizer.step();
        }
        using var _ = no_grad();
        double accuracy = BalancedAccuracy(x.matmul(w) + b > 0, y);
        var direction = (w / w.norm()).detach().clone();
        return (direction.MoveToOuterDisposeScope(), accuracy);
    }
}
