using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Models.Text;
using DiffusionCluster.Shapes;
using DiffusionCluster.Training.Loop;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// CLIP (Radford et al.): text and image towers trained with the symmetric contrastive loss, so matching
/// caption-image pairs have the highest cosine similarity in the batch.
public sealed class ClipTrainer : ITrainer
{
    readonly ClipPair _pair;
    readonly TextTokenizer _tokenizer;
    readonly Device _device;

    public ClipTrainer(TextEncoderConfig textConfig, ImageEncoderConfig imageConfig, string vocabularyFolder, Device device)
    {
        Directory.CreateDirectory(vocabularyFolder);
        TextTokenizer.WriteVocabulary(vocabularyFolder, Captioner.Words());
        _tokenizer = TextTokenizer.Load(vocabularyFolder, textConfig.MaxLength);
        if (_tokenizer.VocabularySize > textConfig.VocabSize)
            throw new ArgumentException($"the caption vocabulary has {_tokenizer.VocabularySize} tokens; text encoder vocab_size is {textConfig.VocabSize}");
        TextConfig = textConfig;
        ImageConfig = imageConfig;
        _pair = new ClipPair(new TextTransformer(textConfig), new ImageEncoder(imageConfig));
        _pair.to(device);
        _device = device;
    }

    public TextEncoderConfig TextConfig { get; }
    public ImageEncoderConfig ImageConfig { get; }
    public string Name => "clip";
    public nn.Module Trainable => _pair;

    public Tensor Loss(long step, int batchSize, Generator generator)
    {
        var batch = ShapesBatch.Draw(batchSize, generator);
        using var tokens = _tokenizer.EncodeBatch(batch.Captions, _device);
        using var images = batch.Images(ImageConfig.ImageSize, _device);
        return _pair.ContrastiveLoss(tokens, images);
    }

    public void Export(string modelFolder)
    {
        CascadeFolder.Save(modelFolder, CascadeFolder.TextEncoder, TextConfig, _pair.Text);
        TextTokenizer.WriteVocabulary(CascadeFolder.Path(modelFolder, CascadeFolder.TextEncoder), Captioner.Words());
        CascadeFolder.Save(modelFolder, CascadeFolder.ImageEncoder, ImageConfig, _pair.Image);
    }
}

/// The two towers and the learned temperature, trained together.
internal sealed class ClipPair : nn.Module
{
    readonly TextTransformer _text;
    readonly ImageEncoder _image;
    readonly Parameter _logitScale;

    public ClipPair(TextTransformer text, ImageEncoder image) : base(nameof(ClipPair))
    {
        _text = text;
        _image = image;
        _logitScale = nn.Parameter(tensor((float)Math.Log(1 / 0.07)));
        RegisterComponents();
    }

    public TextTransformer Text => _text;
    public ImageEncoder Image => _image;

    public Tensor ContrastiveLoss(Tensor tokens, Tensor images)
    {
        using var text = _text.forward(tokens);
        using var imageEmbedding = _image.forward(images);
        return Contrastive.Loss(imageEmbedding, text.Pooled, _logitScale);
    }
}
