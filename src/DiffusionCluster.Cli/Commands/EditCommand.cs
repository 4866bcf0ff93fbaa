using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Grains.Stages;
using DiffusionCluster.Models.Imaging;

namespace DiffusionCluster.Cli.Commands;

/// `edit <operation> --image FILE`: the seed review's image operations as cluster requests (embedded silo by
/// default, like generate). Uploads of another size are resized to 64x64 with a note.
public static class EditCommand
{
    public const string Help = """
          edit variation|reconstruct|interpolate|textdiff|sdedit|ilvr|inpaint|attribute|segment --image FILE.png [--prompt "..."]
                [--second FILE] [--mask FILE] [--source-caption "..."] [--strength S] [--factor N] [--cutoff C]
                [--resample R] [--amount A] [--attribute NAME] [--frames K] [--fixed-noise] [--inversion-steps N]
                [--size 64|256|1024] [--seed N] [--out FILE.png] [stage options] [--model DIR --device D --precision P | --cluster ...]
              variation: new images with the source's CLIP embedding (prompt optional); reconstruct: DDIM-invert to the
              bipartite latent and decode back; interpolate: a strip of K frames from --image to --second;
              textdiff: move the image from --source-caption toward --prompt by --amount (0-1); sdedit: the prompt
              from the image noised to --strength (0.05-1); ilvr: the prompt keeping the image's low frequencies
              (--factor N in 1,2,4,8,16,32; --cutoff 0-0.99 of the schedule); inpaint: the prompt fills where the mask
              is transparent or black (--resample 1-20 RePaint rounds per step); attribute: DiffAE manipulation, z_i moved
              toward --attribute (red, circle, ...; see `train attributes`) by --amount (-2 to 2), x_T kept; segment: a colour-coded
              class mask (background and 8 shapes) from decoder features (see `train segmentation`)
        """;

    static readonly Dictionary<string, ImageEditKind> Kinds = new()
    {
        ["variation"] = ImageEditKind.Variation,
        ["reconstruct"] = ImageEditKind.Reconstruct,
        ["interpolate"] = ImageEditKind.Interpolate,
        ["textdiff"] = ImageEditKind.TextDiff,
        ["sdedit"] = ImageEditKind.SdEdit,
        ["ilvr"] = ImageEditKind.Ilvr,
        ["inpaint"] = ImageEditKind.Inpaint,
        ["attribute"] = ImageEditKind.Attribute,
        ["segment"] = ImageEditKind.Segment,
    };

    public static async Task<int> Run(Arguments args)
    {
        var name = args.Positionals.FirstOrDefault() ?? throw new UsageException($"edit needs an operation: {string.Join(", ", Kinds.Keys)}");
        if (!Kinds.TryGetValue(name, out var kind)) throw new UsageException($"unknown edit operation \"{name}\"; choose {string.Join(", ", Kinds.Keys)}");
        var imagePath = args.Text("image") ?? throw new UsageException("edit needs --image FILE");
        var secondPath = args.Text("second");
        var maskPath = args.Text("mask");
        var defaults = new ImageEditSpec { Kind = kind, Image = new WireTensor([], []) };
        var edit = defaults with
        {
            SourceCaption = args.Text("source-caption"),
            AttributeName = args.Text("attribute"),
            Strength = args.Double("strength", defaults.Strength, double.MinValue, double.MaxValue),
            Factor = args.Int("factor", defaults.Factor, int.MinValue, int.MaxValue),
            Cutoff = args.Double("cutoff", defaults.Cutoff, double.MinValue, double.MaxValue),
            Resample = args.Int("resample", defaults.Resample, int.MinValue, int.MaxValue),
            Amount = args.Double("amount", defaults.Amount, double.MinValue, double.MaxValue),
            Frames = args.Int("frames", defaults.Frames, int.MinValue, int.MaxValue),
            InterpolateNoise = !args.Flag("fixed-noise"),
            InversionSteps = args.Int("inversion-steps", defaults.InversionSteps, int.MinValue, int.MaxValue),
        };
        var prompt = args.Text("prompt", "");
        var target = RunTarget.Read(args, $"{name}.png");
        var spec = StageOptions.Spec(args, prompt);
        args.RejectUnknown();

        var imageBytes = await File.ReadAllBytesAsync(imagePath);
        var (width, height) = ImageInput.Dimensions(imageBytes);
        edit = edit with { Image = Wire(ImageInput.Image(imageBytes, ImageEditSpec.ImageSize)) };
        if (secondPath is not null) edit = edit with { Second = Wire(ImageInput.Image(await File.ReadAllBytesAsync(secondPath), ImageEditSpec.ImageSize, "second image")) };
        if (maskPath is not null)
        {
            edit = edit with { Mask = ImageInput.Mask(await File.ReadAllBytesAsync(maskPath), width, height, ImageEditSpec.ImageSize) };
        }
        return await GenerateCommand.Submit(target, spec with { Edit = edit });
    }

    static WireTensor Wire(PreparedImage image)
    {
        if (image.Note is not null) Console.Error.WriteLine($"note: {image.Note}");
        return image.Pixels;
    }
}
