using DiffusionCluster.Models.Networks;
using DiffusionCluster.Models.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

/// Stage 1: prompts -> CLIP text encodings (token features for cross-attention, pooled z_t).
public sealed class TextStage
{
    readonly TextTransformer _encoder;

    public TextStage(string modelFolder, Device device, ScalarType dtype = ScalarType.Float32)
    {
        Tokenizer = CascadeFolder.LoadTokenizer(modelFolder);
        _encoder = CascadeFolder.LoadTextEncoder(modelFolder, device);
        _encoder.to(dtype);
        Device = device;
    }

    public TextTokenizer Tokenizer { get; }
    public Device Device { get; }

    /// Throws ArgumentException naming the problem for a prompt the encoder cannot take.
    public void Validate(string prompt)
    {
        if (string.IsNullOrWhiteSpace(prompt)) throw new ArgumentException("prompt is empty");
        Tokenizer.Encode(prompt);
    }

    public TextEncoding Encode(IReadOnlyList<string> prompts)
    {
        using var _ = no_grad();
        using var tokens = Tokenizer.EncodeBatch(prompts, Device);
        var encoded = _encoder.forward(tokens);
        if (encoded.Tokens.dtype == ScalarType.Float32) return encoded;
        using (encoded) return new TextEncoding(encoded.Tokens.to(ScalarType.Float32), encoded.Mask.alias(), encoded.Pooled.to(ScalarType.Float32), encoded.Ids?.alias());
    }
}
