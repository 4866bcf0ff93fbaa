using DiffusionCluster.Shapes;
using static TorchSharp.torch;

namespace DiffusionCluster.Lab.Studies;

/// Does an embedding of a two-object scene say where both objects are, and which colour sits where? A least-squares
/// probe maps the embedding to the scene's colour-by-place grid (8 colours x 9 places, a 1 where an object of that
/// colour sits). Summed over colours it is the occupancy probe (least squares is linear in its targets): its two
/// strongest places must be the scene's two places. Read along one colour's row it says where the object of that
/// colour is, the binding a decoder needs to draw "the red one on the left".
internal static class TwoObjectPlaceProbe
{
    const int Places = 9;
    static readonly int Colours = Palette.Objects.Length;

    /// Each scene's colour-by-place grid as one row of 72 zeros and ones: [scenes, colours x places].
    public static Tensor Targets(IReadOnlyList<Scene> scenes)
    {
        var grid = new double[scenes.Count * Colours * Places];
        for (int i = 0; i < scenes.Count; i++)
            foreach (var o in scenes[i].Objects)
                grid[(i * Colours + ColourIndex(o.Colour)) * Places + (int)o.Position] = 1;
        return tensor(grid, new long[] { scenes.Count, Colours * Places }, float64);
    }

    /// Scenes whose two places are the probe's two strongest places, and objects whose place the probe reads from
    /// their colour's row.
    public static (int BothPlaces, int ObjectsPlaced) Score(Tensor probe, Tensor features, IReadOnlyList<Scene> scenes)
    {
        using var scope = NewDisposeScope();
        var grid = LayoutStudy.WithBias(features).matmul(probe).view(scenes.Count, Colours, Places).cpu();
        var occupancy = grid.sum(1).data<double>().ToArray();
        var cells = grid.data<double>().ToArray();
        int both = 0, placed = 0;
        for (int i = 0; i < scenes.Count; i++)
        {
            var strongest = Enumerable.Range(0, Places).OrderByDescending(p => occupancy[i * Places + p]).Take(2).ToHashSet();
            if (strongest.SetEquals(scenes[i].Objects.Select(o => (int)o.Position))) both++;
            foreach (var o in scenes[i].Objects)
            {
                int row = (i * Colours + ColourIndex(o.Colour)) * Places;
                int best = Enumerable.Range(0, Places).MaxBy(p => cells[row + p]);
                if (best == (int)o.Position) placed++;
            }
        }
        return (both, placed);
    }

    // Palette.Object throws, naming the known colours, where a bare search would index the grid with -1.
    static int ColourIndex(string name) => Array.IndexOf(Palette.Objects, Palette.Object(name));
}
