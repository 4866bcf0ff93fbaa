using DiffusionCluster.Shapes;
using static TorchSharp.torch;

namespace DiffusionCluster.Training.Trainers;

/// What a super-resolution stage should make of a generated picture: the picture with every pixel set to the nearest
/// of its scene's colours (the background's, each object's and, for a textured object, its shade). Every picture of
/// the world is flat colours with crisp outlines, so this is the picture as a render would draw it, with the outlines
/// where the picture has them. The exact render of the scene asks for more: outlines moved to where the scene puts
/// them, which the base misses by a few pixels at 1024 px (outline IoU 0.95); a stage that cannot tell from its input
/// where the render's outline lies learns the blurred mean of the places it may be.
public static class FlatTarget
{
    /// picture: [3, H, W] in [-1, 1], already at the target's size; returns [3, H, W] in [-1, 1].
    public static Tensor Of(Tensor picture, Scene scene)
    {
        using var scope = NewDisposeScope();
        var colours = Colours(scene).to(picture.device);
        var distances = (picture.unsqueeze(0) - colours.view(-1, 3, 1, 1)).square().sum(1); // [colours, H, W]
        var nearest = distances.argmin(0).flatten();
        long height = picture.shape[1], width = picture.shape[2];
        return colours.index_select(0, nearest).view(height, width, 3).permute(2, 0, 1).contiguous().MoveToOuterDisposeScope();
    }

    /// The scene's colours [n, 3] in [-1, 1].
    static Tensor Colours(Scene scene)
    {
        var colours = new List<(double R, double G, double B)> { Palette.Colour(scene.Background).Linear };
        foreach (var o in scene.Objects)
        {
            var colour = Palette.Colour(o.Colour);
            colours.Add(colour.Linear);
            if (o.Texture != Texture.Plain) colours.Add(colour.Shade);
        }
        return tensor(colours.SelectMany(c => new[] { (float)(2 * c.R - 1), (float)(2 * c.G - 1), (float)(2 * c.B - 1) }).ToArray()).view(-1, 3);
    }
}
