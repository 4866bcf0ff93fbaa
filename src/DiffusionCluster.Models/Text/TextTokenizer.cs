using DiffusionCluster.Models.Configs;
using Microsoft.ML.Tokenizers;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Text;

/// Prompt -> token ids for the text encoder: a lower-casing WordPiece (BERT) tokenizer over the vocab.txt
/// stored in the model folder, wrapped in [CLS] ... [SEP] and padded with [PAD] (id 0) to a fixed length.
public sealed class TextTokenizer
{
    public const string VocabularyFile = "vocab.txt";
    public static readonly string[] SpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    readonly BertTokenizer _tokenizer;

    TextTokenizer(BertTokenizer tokenizer, int maxLength, int vocabularySize)
    {
        _tokenizer = tokenizer;
        MaxLength = maxLength;
        VocabularySize = vocabularySize;
    }

    public int MaxLength { get; }
    public int VocabularySize { get; }

    public static TextTokenizer Load(string folder, int maxLength)
    {
        var path = Path.Combine(folder, VocabularyFile);
        if (!File.Exists(path)) throw new ModelFormatException(path, "file is missing");
        var lines = File.ReadAllLines(path);
        for (int i = 0; i < SpecialTokens.Length; i++)
            if (lines.Length <= i || lines[i] != SpecialTokens[i])
                throw new ModelFormatException(path, $"line {i + 1} must be {SpecialTokens[i]}; the first lines are the special tokens {string.Join(" ", SpecialTokens)}");
        var tokenizer = BertTokenizer.Create(path, new BertOptions { LowerCaseBeforeTokenization = true });
        return new TextTokenizer(tokenizer, maxLength, lines.Length);
    }

    /// Writes a vocabulary: the special tokens, then the given words in order.
    public static void WriteVocabulary(string folder, IEnumerable<string> words) =>
        File.WriteAllLines(Path.Combine(folder, VocabularyFile), SpecialTokens.Concat(words.Distinct()));

    public int[] Encode(string prompt)
    {
        var ids = _tokenizer.EncodeToIds(prompt, considerPreTokenization: true, considerNormalization: true);
        if (ids.Count > MaxLength)
            throw new ArgumentException($"prompt is {ids.Count} tokens; the text encoder accepts {MaxLength}; shorten it");
        return ids.ToArray();
    }

    /// A [B, max_length] int64 batch, padded with 0.
    public Tensor EncodeBatch(IReadOnlyList<string> prompts, Device? device = null)
    {
        var ids = new long[prompts.Count * MaxLength];
        for (int b = 0; b < prompts.Count; b++)
        {
            var encoded = Encode(prompts[b]);
            for (int i = 0; i < encoded.Length; i++) ids[b * MaxLength + i] = encoded[i];
        }
        return tensor(ids, new long[] { prompts.Count, MaxLength }, int64, device);
    }

    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids);
}
