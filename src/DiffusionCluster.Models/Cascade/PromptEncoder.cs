using DiffusionCluster.Models.Networks;
using DiffusionCluster.Models.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

/// A prompt as the text encoder reads it: the caption composed from it (the prompt itself in a folder without a
/// composer) and the words that were ignored because the model does not know them.
public sealed record ComposedPrompt(string Caption, IReadOnlyList<string> IgnoredWords);

/// Stage 1: prompts -> CLIP text encodings (token features for cross-attention, pooled z_t). A folder with a
/// composer first turns each prompt into a caption that names the whole scene, drawn from the request's seed.
public sealed class PromptEncoder
{
    readonly TextTransformer _encoder;

    public PromptEncoder(string modelFolder, Device device, ScalarType dtype = ScalarType.Float32)
    {
        Composer = CascadeFolder.LoadComposer(modelFolder);
        ImageCaptioner = Composer is null ? null : new ImageCaptioner(Composer.World);
        Tokenizer = CascadeFolder.LoadTokenizer(modelFolder);
        _encoder = CascadeFolder.LoadTextEncoder(modelFolder, device);
        _encoder.to(dtype);
        Device = device;
    }

    public Shapes.Composer? Composer { get; }
    /// Captions uncaptioned source images (variations); null for a folder without one.
    public ImageCaptioner? ImageCaptioner { get; }
    public TextTokenizer Tokenizer { get; }
    public Device Device { get; }

    /// The caption the encoder reads for a prompt and seed; throws ArgumentException naming the problem for a
    /// prompt the model cannot draw (unknown words unless ignoreUnknownWords, more objects than it draws, ...).
    /// reference: the scene read from an operation's source image, which supplies what the prompt leaves unsaid.
    public ComposedPrompt Compose(string prompt, ulong seed, bool ignoreUnknownWords = false, Shapes.Scene? reference = null)
    {
        if (string.IsNullOrWhiteSpace(prompt)) throw new ArgumentException("prompt is empty");
        if (Composer is null)
        {
            Tokenizer.Encode(prompt);
            return new ComposedPrompt(prompt, []);
        }
        var composition = Composer.Compose(prompt, (long)seed, ignoreUnknownWords, reference);
        Tokenizer.Encode(composition.Caption);
        return new ComposedPrompt(composition.Caption, composition.IgnoredWords);
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
