using System.CommandLine;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Grains.Stages;
using DiffusionCluster.Models.Imaging;

namespace DiffusionCluster.Cli.Commands;

/// `edit <operation> --image FILE`: the seed review's image operations as cluster requests (embedded silo by
/// default, like generate), one subcommand each with only its own settings. Uploads of another size are resized to
/// 64x64 with a note.
public static class EditCommand
{
    public static Command Create()
    {
        var command = new Command("edit", "The image operations of the seed review, on an image (64x64; other sizes are resized), run like generate.");
        var inversionSteps = () => CliOption.Int("--inversion-steps", "DDIM inversion steps", InvertingOperation.DefaultInversionSteps,
            InvertingOperation.MinInversionSteps, InvertingOperation.MaxInversionSteps);

        Add(command, "variation", "New images with the source's CLIP embedding and layout; without --prompt, drawn from the caption read from the image (printed).", [], (_, image, _) => new VariationOperation { Image = image });
        Add(command, "segment", "A colour-coded class mask (background and 8 shapes) from decoder features (see `train segmentation`).", [],
            (_, image, _) => new SegmentOperation { Image = image });
        var reconstructSteps = inversionSteps();
        Add(command, "reconstruct", "DDIM-inverts the image to the bipartite latent and decodes it back.", [reconstructSteps],
            (line, image, _) => new ReconstructOperation { Image = image, InversionSteps = line.GetValue(reconstructSteps) });

        var second = CliOption.RequiredText("--second", "the last frame's image", "FILE.png");
        var frames = CliOption.Int("--frames", "frames in the strip", 8, 2, InterpolateOperation.MaxFrames, "K");
        var fixedNoise = CliOption.Flag("--fixed-noise", "keep the first image's inverted noise for every frame (default: interpolate it too)");
        var interpolateSteps = inversionSteps();
        Add(command, "interpolate", "A strip of K frames from --image to --second.", [second, frames, fixedNoise, interpolateSteps],
            (line, image, _) => new InterpolateOperation
            {
                Image = image,
                Second = Wire(ImageInput.Image(File.ReadAllBytes(line.GetValue(second)!), ImageOperation.ImageSize, "second image")),
                Frames = line.GetValue(frames),
                InterpolateNoise = !line.GetValue(fixedNoise),
                InversionSteps = line.GetValue(interpolateSteps),
            });

        var sourceCaption = CliOption.RequiredText("--source-caption", "the image's caption", "TEXT");
        var diffAmount = CliOption.Double("--amount", "how far z_i moves toward the caption difference", TextDiffOperation.DefaultAmount, 0, 1, "A");
        var diffSteps = inversionSteps();
        Add(command, "textdiff", "Redraws where the image's --source-caption and --prompt disagree, z_i moved toward the caption difference, the rest kept; what both leave unsaid (places, sizes) is read from the image.",
            [sourceCaption, diffAmount, diffSteps],
            (line, image, _) => new TextDiffOperation
            {
                Image = image, SourceCaption = line.GetValue(sourceCaption)!, Amount = line.GetValue(diffAmount), InversionSteps = line.GetValue(diffSteps),
            });

        var attribute = CliOption.RequiredText("--attribute", "red, circle, ... (see `train attributes`)", "NAME");
        var attributeAmount = CliOption.Double("--amount", "how far z_i moves along the attribute's direction", AttributeOperation.DefaultAmount,
            -AttributeOperation.MaxAmount, AttributeOperation.MaxAmount, "A");
        var attributeSteps = inversionSteps();
        Add(command, "attribute", "DiffAE manipulation: z_i moved toward --attribute, redrawn where that changes the decoder's prediction, the rest kept.",
            [attribute, attributeAmount, attributeSteps],
            (line, image, _) => new AttributeOperation
            {
                Image = image, Attribute = line.GetValue(attribute)!, Amount = line.GetValue(attributeAmount), InversionSteps = line.GetValue(attributeSteps),
            });

        var strength = CliOption.Double("--strength", "how far the image is noised before the prompt redraws it", 0.6, SdEditOperation.MinStrength, SdEditOperation.MaxStrength, "S");
        Add(command, "sdedit", "The prompt, drawn from the image noised to --strength.", [strength],
            (line, image, _) => new SdEditOperation { Image = image, Strength = line.GetValue(strength) });

        var factor = CliOption.Int("--factor", "downsampling factor of the frequencies kept: 1, 2, 4, 8, 16 or 32", 8, 1, IlvrOperation.MaxFactor);
        var cutoff = CliOption.Double("--cutoff", "the share of the schedule, from its end, left free", 0.3, 0, IlvrOperation.MaxCutoff, "C");
        Add(command, "ilvr", "The prompt, keeping the image's low frequencies.", [factor, cutoff],
            (line, image, _) => new IlvrOperation { Image = image, Factor = line.GetValue(factor), Cutoff = line.GetValue(cutoff) });

        var mask = CliOption.OptionalText("--mask", "black or transparent where the prompt fills (default: the image's own transparency)", "FILE.png");
        var resample = CliOption.Int("--resample", "RePaint rounds per step", 5, 1, InpaintOperation.MaxResample, "R");
        Add(command, "inpaint", "The prompt fills where the mask is transparent or black.", [mask, resample],
            (line, image, bytes) => new InpaintOperation { Image = image, Mask = Mask(line.GetValue(mask), bytes), Resample = line.GetValue(resample) });
        return command;
    }

    /// One operation's subcommand: the image, an optional prompt, where it runs, the request's options and its own settings.
    static void Add(Command edit, string name, string description, Option[] settings, Func<ParseResult, WireTensor, byte[], ImageOperation> operation)
    {
        var image = CliOption.RequiredText("--image", "the source image", "FILE.png");
        var prompt = CliOption.Text("--prompt", "what to draw (optional for variation, reconstruct, interpolate, segment)", "", "TEXT");
        var target = new RunTargetOptions($"{name}.png");
        var request = new RequestOptions(deadline: true);
        var command = new Command(name, description) { image, prompt };
        foreach (var setting in settings) command.Options.Add(setting);
        target.AddTo(command);
        request.AddTo(command);
        command.SetAction(async (line, _) =>
        {
            var bytes = await File.ReadAllBytesAsync(line.GetValue(image)!);
            var spec = request.Read(line, line.GetValue(prompt)!);
            return await GenerateCommand.Submit(target.Read(line), spec with { Operation = operation(line, Wire(ImageInput.Image(bytes, ImageOperation.ImageSize)), bytes) });
        });
        edit.Subcommands.Add(command);
    }

    /// The mask file (black or transparent where the prompt fills), or the image's own transparency without one.
    static WireTensor Mask(string? maskPath, byte[] imageBytes)
    {
        var (width, height) = ImageInput.Dimensions(imageBytes);
        return maskPath is not null
            ? ImageInput.Mask(File.ReadAllBytes(maskPath), width, height, ImageOperation.ImageSize)
            : ImageInput.Mask(imageBytes, width, height, ImageOperation.ImageSize, alphaOnly: true);
    }

    static WireTensor Wire(PreparedImage image)
    {
        if (image.Note is not null) Console.Error.WriteLine($"note: {image.Note}");
        return image.Pixels;
    }
}
