using DiffusionCluster.Shapes;
using static TorchSharp.torch;

namespace DiffusionCluster.Models.Cascade;

/// Reads what an image shows, for operations that start from an image: the scene, whose objects and places the
/// composer keeps where a prompt leaves them unsaid (a text diff's two captions, a variation's prompt), and the caption
/// of an uncaptioned variation (the decoder reads shape weakly from z_i, so a caption of the image carries it). In this
/// world the reader is the scene parser, which reads its renders exactly (it is also ShapeBench's judge, so an
/// operation that reads its source with it is held to what the judge saw there); a real-size cascade would load a
/// captioning model here.
public sealed class ImageCaptioner(World world)
{
    /// image: [3, H, W] or [1, 3, H, W] in [-1, 1]. Null when the reader finds no object.
    public Scene? Read(Tensor image)
    {
        var parsed = SceneParser.Parse(image, world.ObjectColours);
        // The largest objects, as many as the world draws: a generated image's specks are not objects to caption.
        var objects = parsed.Objects.OrderByDescending(o => o.Area).Take(world.MaxObjects)
            .Select(o => new SceneObject(o.Shape, o.Colour, o.Size, o.Position, o.Texture)).ToList();
        return objects.Count == 0 ? null : new Scene(parsed.Background, objects);
    }

    /// The full caption the decoder reads best; null when the reader finds no object (the image stays uncaptioned).
    public string? Caption(Tensor image) => Read(image) is { } scene ? Captioner.Canonical(scene) : null;
}
