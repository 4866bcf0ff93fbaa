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
              variation: new images with the source's CLIP embedding and layout (prompt optional); reconstruct: DDIM-invert to the
              bipartite latent and decode back; interpolate: a strip of K frames from --image to --second;
              textdiff: redraw where the image's --source-caption and --prompt disagree, z_i moved toward the caption
              difference by --amount (0-1), the rest kept; sdedit: the prompt
              from the image noised to --strength (0.05-1); ilvr: the prompt keeping the image's low frequencies
              (--factor N in 1,2,4,8,16,32; --cutoff 0-0.99 of the schedule); inpaint: the prompt fills where the mask
              is transparent or black (--resample 1-20 RePaint rounds per step); attribute: DiffAE manipulation, z_i moved
              toward --attribute (red, circle, ...; see `train attributes`) by --amount (-2 to 2), redrawn where that changes the
              decoder's prediction, the rest kept; segment: a colour-coded
              class mask (background and 8 shapes) from decoder features (see `train segmentation`)
        """;

    static readonly string[] Operations = ["variation", "reconstruct", "interpolate", "textdiff", "sdedit", "ilvr", "inpaint", "attribute", "segment"];

    public static async Task<int> Run(Arguments args)
    {
        var name = args.Positionals.FirstOrDefault() ?? throw new UsageException($"edit needs an operation: {string.Join(", ", Operations)}");
        if (!Operations.Contains(name)) throw new UsageException($"unknown edit operation \"{name}\"; choose {string.Join(", ", Operations)}");
        var imagePath = args.Text("image") ?? throw new UsageException("edit needs --image FILE");
        var imageBytes = await File.ReadAllBytesAsync(imagePath);
        var image = Wire(ImageInput.Image(imageBytes, ImageOperation.ImageSize));
        // Each operation reads only its own settings, so a setting it does not take is refused as unknown.
        int InversionSteps() => args.Int("inversion-steps", InvertingOperation.DefaultInversionSteps, int.MinValue, int.MaxValue);
        double Amount(double fallback) => args.Double("amount", fallback, double.MinValue, double.MaxValue);
        ImageOperation operation = name switch
        {
            "variation" => new VariationOperation { Image = image },
            "segment" => new SegmentOperation { Image = image },
            "reconstruct" => new ReconstructOperation { Image = image, InversionSteps = InversionSteps() },
            "interpolate" => new InterpolateOperation
            {
                Image = image,
                Second = Wire(ImageInput.Image(await File.ReadAllBytesAsync(args.Text("second") ?? throw new UsageException("interpolate needs --second FILE")),
                    ImageOperation.ImageSize, "second image")),
                Frames = args.Int("frames", 8, int.MinValue, int.MaxValue),
                InterpolateNoise = !args.Flag("fixed-noise"),
                InversionSteps = InversionSteps(),
            },
            "textdiff" => new TextDiffOperation
            {
                Image = image,
                SourceCaption = args.Text("source-caption") ?? throw new UsageException("textdiff needs --source-caption \"...\" (the image's caption)"),
                Amount = Amount(TextDiffOperation.DefaultAmount),
                InversionSteps = InversionSteps(),
            },
            "attribute" => new AttributeOperation
            {
                Image = image,
                Attribute = args.Text("attribute") ?? throw new UsageException("attribute needs --attribute NAME (red, circle, ...)"),
                Amount = Amount(AttributeOperation.DefaultAmount),
                InversionSteps = InversionSteps(),
            },
            "sdedit" => new SdEditOperation { Image = image, Strength = args.Double("strength", 0.6, double.MinValue, double.MaxValue) },
            "ilvr" => new IlvrOperation
            {
                Image = image,
                Factor = args.Int("factor", 8, int.MinValue, int.MaxValue),
                Cutoff = args.Double("cutoff", 0.3, double.MinValue, double.MaxValue),
            },
            _ => new InpaintOperation { Image = image, Mask = await Mask(args, imageBytes), Resample = args.Int("resample", 5, int.MinValue, int.MaxValue) },
        };
        var prompt = args.Text("prompt", "");
        var target = RunTarget.Read(args, $"{name}.png");
        var spec = StageOptions.Spec(args, prompt);
        args.RejectUnknown();
        return await GenerateCommand.Submit(target, spec with { Operation = operation });
    }

    /// The mask file (black or transparent where the prompt fills), or the image's own transparency without one.
    static async Task<WireTensor> Mask(Arguments args, byte[] imageBytes)
    {
        var (width, height) = ImageInput.Dimensions(imageBytes);
        return args.Text("mask") is { } maskPath
            ? ImageInput.Mask(await File.ReadAllBytesAsync(maskPath), width, height, ImageOperation.ImageSize)
            : ImageInput.Mask(imageBytes, width, height, ImageOperation.ImageSize, alphaOnly: true);
    }

    static WireTensor Wire(PreparedImage image)
    {
        if (image.Note is not null) Console.Error.WriteLine($"note: {image.Note}");
        return image.Pixels;
    }
}
