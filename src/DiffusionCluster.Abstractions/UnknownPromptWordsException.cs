namespace DiffusionCluster.Abstractions;

/// A prompt with words the model does not know, as it travels from the text stage to the caller: the message names
/// each word and where the vocabulary is listed, so the HTTP edge answers 400 with code unknown_words.
[GenerateSerializer, Alias("DiffusionCluster.UnknownPromptWordsException")]
public sealed class UnknownPromptWordsException(string message, IReadOnlyList<string> words) : ArgumentException(message)
{
    [Id(0)] public IReadOnlyList<string> Words { get; } = words;
}
