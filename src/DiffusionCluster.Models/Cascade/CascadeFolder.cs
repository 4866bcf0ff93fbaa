using DiffusionCluster.Abstractions;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Models.Networks;
using DiffusionCluster.Models.Text;
using DiffusionCluster.Models.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

/// The component names of a cascade model folder and how each loads. Each stage loads only its own
/// components, so a silo that hosts one stage never reads the others' weights.
public static class CascadeFolder
{
    public const string ClassName = "ShapesCascade";
    /// The bundled cascade, relative to the repository root (or to a container's working directory).
    public const string Bundled = "models/shapes-cascade";
    public const string TextEncoder = "text_encoder";
    public const string ImageEncoder = "image_encoder";
    public const string NoisyImageEncoder = "image_encoder_noisy";
    public const string Prior = "prior";
    public const string Decoder64 = "decoder64";
    public const string Sr256 = "sr256";
    public const string Sr1024 = "sr1024";
    public const string Layout = "layout";
    public const string Composer = "composer";

    /// The stages of a cascade trained here, recorded in the index of every folder the trainers fill.
    public static readonly IReadOnlyList<StageDescriptor> ShapesCascadeStages =
    [
        new(CascadeStage.Text, TextEncoder, StageKind.Text),
        new(CascadeStage.Prior, Prior, StageKind.Prior),
        new(CascadeStage.Decoder64, Decoder64, StageKind.Image, 64),
        new(CascadeStage.Sr256, Sr256, StageKind.Image, 256),
        new(CascadeStage.Sr1024, Sr1024, StageKind.Image, 1024),
    ];

    public static string Path(string modelFolder, string component) => System.IO.Path.Combine(modelFolder, component);

    /// The cascade a model folder runs: its model_index.json's stages, checked.
    public static CascadeDefinition Definition(string modelFolder)
    {
        var index = ModelIndex.Read(modelFolder);
        var path = System.IO.Path.Combine(modelFolder, ModelIndex.FileName);
        if (index.Stages.Count == 0) throw new ModelFormatException(path, "lists no _stages (the cascade's stages in running order)");
        try
        {
            var definition = new CascadeDefinition(index.Stages);
            foreach (var stage in definition.Stages)
                if (!index.Components.ContainsKey(stage.Component))
                    throw new ArgumentException($"stage {stage.Stage.Name()} runs component {stage.Component}, which the index does not list");
            return definition;
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(path, e.Message);
        }
    }

    /// The folder's index as it stands, for a trainer adding a component; a new folder's index lists the shapes
    /// cascade's stages.
    public static ModelIndex Index(string modelFolder)
    {
        var index = ModelIndex.ReadOrEmpty(modelFolder, ClassName);
        return index.Stages.Count > 0 ? index : index with { Stages = ShapesCascadeStages };
    }

    public static TextTransformer LoadTextEncoder(string modelFolder, Device? device = null) =>
        Component.Load<TextEncoderConfig, TextTransformer>(Path(modelFolder, TextEncoder), c => new TextTransformer(c), device);

    public static TextTokenizer LoadTokenizer(string modelFolder) =>
        TextTokenizer.Load(Path(modelFolder, TextEncoder), Component.ReadConfig<TextEncoderConfig>(Path(modelFolder, TextEncoder)).MaxLength);

    public static ImageEncoder LoadImageEncoder(string modelFolder, string component = ImageEncoder, Device? device = null) =>
        Component.Load<ImageEncoderConfig, ImageEncoder>(Path(modelFolder, component), c => new ImageEncoder(c), device);

    public static DiffusionPrior LoadPrior(string modelFolder, Device? device = null) =>
        Component.Load<PriorConfig, DiffusionPrior>(Path(modelFolder, Prior), c => new DiffusionPrior(c), device);

    public static LayoutNetwork LoadLayout(string modelFolder, Device? device = null) =>
        Component.Load<LayoutConfig, LayoutNetwork>(Path(modelFolder, Layout), c => new LayoutNetwork(c), device);

    public static UNet LoadUNet(string modelFolder, string component, Device? device = null) =>
        Component.Load<UNetConfig, UNet>(Path(modelFolder, component), c => new UNet(c), device);

    /// The prompt composer of a folder whose cascade was trained on the Shapes world (composer/config.json holds that
    /// world), or null: a folder without one reads prompts as they are written.
    public static Shapes.Composer? LoadComposer(string modelFolder)
    {
        var path = System.IO.Path.Combine(Path(modelFolder, Composer), Component.ConfigFile);
        if (!Directory.Exists(Path(modelFolder, Composer))) return null;
        if (!File.Exists(path)) throw new ModelFormatException(path, "file is missing");
        try
        {
            var world = System.Text.Json.JsonSerializer.Deserialize<Shapes.World>(File.ReadAllText(path), ConfigJson.Options)
                ?? throw new ModelFormatException(path, "is empty");
            world.Validate();
            return new Shapes.Composer(world);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException)
        {
            throw new ModelFormatException(path, $"is not a valid world: {e.Message}");
        }
    }

    /// Records the world a cascade was trained on, so its composer refuses what the cascade cannot draw.
    public static void SaveComposer(string modelFolder, Shapes.World world)
    {
        world.Validate();
        Directory.CreateDirectory(Path(modelFolder, Composer));
        File.WriteAllText(System.IO.Path.Combine(Path(modelFolder, Composer), Component.ConfigFile),
            System.Text.Json.JsonSerializer.Serialize(world, ConfigJson.Options) + "\n");
        Index(modelFolder).With(Composer, nameof(Shapes.Composer)).Write(modelFolder);
    }

    /// Saves one component (weights in float16: the bundled cascade must stay small) and records it in model_index.json.
    public static void Save<TConfig>(string modelFolder, string component, TConfig config, nn.Module module) where TConfig : INetworkConfig
    {
        Component.Save(Path(modelFolder, component), config, module, ScalarType.Float16);
        Index(modelFolder).With(component, module.GetType().Name).Write(modelFolder);
    }
}
