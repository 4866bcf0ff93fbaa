using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.ServiceDefaults;

namespace DiffusionCluster.Cli.Commands;

/// `generate "<prompt>"`: runs the cascade through its grains, on an embedded single-process silo (the
/// default) or on a running cluster (--cluster), and writes the PNG.
public static class GenerateCommand
{
    public static async Task<int> Run(Arguments args)
    {
        var prompt = args.Positionals.FirstOrDefault() ?? throw new UsageException("generate needs a prompt in quotes");
        var target = RunTarget.Read(args);
        var spec = StageOptions.Spec(args, prompt);
        var previews = args.Text("previews");
        if (previews is not null && !Directory.Exists(previews))
            throw new UsageException($"--previews {previews}: the folder does not exist; create it or name another");
        args.RejectUnknown();
        return await Submit(target, spec with { Previews = previews is not null }, previews);
    }

    /// Runs one request (text-to-image or an image operation) where the target says, printing progress and
    /// the per-stage table, and writes the PNG; with a previews folder, each new preview of the image as it forms too.
    public static async Task<int> Submit(RunTarget target, GenerationSpec spec, string? previews = null)
    {
        spec.Validate();
        var output = target.Output;
        using var spans = new StageSpanCollector();
        await using var connection = target.Cluster is null
            ? await CascadeConnection.Embedded(target.Model, target.Device, target.Threads, precision: target.Precision)
            : await CascadeConnection.Client(target.Cluster);
        var requestId = Guid.NewGuid();
        using var done = new CancellationTokenSource();
        var progress = ShowProgress(connection.Grains.GetGrain<IGenerationGrain>(requestId), previews, done.Token);
        GenerationResult result;
        try
        {
            result = await connection.Grains.Generate(spec, requestId);
        }
        finally
        {
            done.Cancel();
            await progress;
            Console.Error.WriteLine();
        }
        await File.WriteAllBytesAsync(output, result.Png);

        var traced = spans.StagesOf(requestId);
        Console.WriteLine($"{"stage",-10}{"try",4}  {"silo",-32}{"device",-8}{"batch",6}{"queue",10}{"compute",12}{"span",12}");
        if (traced.Count > 0)
        {
            // From the request's own trace: one span per stage attempt, failed attempts included.
            foreach (var span in traced)
                Console.WriteLine($"{span.GetTagItem(CascadeTelemetry.Tags.Stage),-10}{span.GetTagItem(CascadeTelemetry.Tags.Attempt),4}  " +
                                  $"{span.GetTagItem(CascadeTelemetry.Tags.Silo),-32}{span.GetTagItem(CascadeTelemetry.Tags.Device) ?? "-",-8}" +
                                  $"{span.GetTagItem(CascadeTelemetry.Tags.BatchSize) ?? "-",6}{Ms(span, CascadeTelemetry.Tags.QueueMs),10}" +
                                  $"{Ms(span, CascadeTelemetry.Tags.ComputeMs),12}{span.Duration.TotalMilliseconds,9:F0} ms");
        }
        else
        {
            // On a remote cluster the spans are exported by the silos (OTLP); the same figures travel in the result.
            foreach (var s in result.Stages)
                Console.WriteLine($"{s.Stage.Name(),-10}{s.Attempt,4}  {s.Silo,-32}{s.Device,-8}{s.BatchSize,6}{s.QueueMilliseconds,7:F0} ms{s.ComputeMilliseconds,9:F0} ms{"-",12}");
        }
        if (result.Caption is { } caption)
        {
            Console.WriteLine($"drawn from: {caption.Caption}");
            if (caption.IgnoredWords.Count > 0) Console.WriteLine($"ignored words the model does not know: {string.Join(", ", caption.IgnoredWords)}");
        }
        var what = spec.Operation is InterpolateOperation interpolate ? $"{interpolate.Frames} frames of 64x64" : $"{spec.Size}x{spec.Size}";
        Console.WriteLine($"total {result.TotalMilliseconds:F0} ms; wrote {output} ({what}, seed {spec.Seed})");
        return 0;
    }

    static string Ms(System.Diagnostics.Activity span, string tag) => span.GetTagItem(tag) is double ms ? $"{ms:F0} ms" : "-";

    /// Prints the running stage and step; writes each new preview into the previews folder, if any, as
    /// STAGE-stepNNN.png.
    static async Task ShowProgress(IGenerationGrain request, string? previews, CancellationToken done)
    {
        string last = "";
        byte[] lastPreview = [];
        while (!done.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(250, done);
                var p = await request.GetProgress();
                if (p.Stage is not { } stage) continue;
                if (previews is not null && p.Preview is { } preview && !preview.AsSpan().SequenceEqual(lastPreview))
                {
                    await File.WriteAllBytesAsync(Path.Combine(previews, $"{stage.Name()}-step{p.Step:000}.png"), preview, CancellationToken.None);
                    lastPreview = preview;
                }
                var line = p.TotalSteps > 0 ? $"{stage.Name(),-10} step {p.Step}/{p.TotalSteps}" : $"{stage.Name(),-10} running";
                if (line == last) continue;
                Console.Error.Write($"\r{line,-30}");
                last = line;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// Where a request runs (an embedded silo on this machine, or a cluster) and where its PNG goes.
public sealed record RunTarget(string? Cluster, string Model, string Device, string Precision, int Threads, string Output)
{
    public static RunTarget Read(Arguments args, string defaultOutput = "image.png")
    {
        var target = new RunTarget(args.Text("cluster"), args.Text("model", CascadeFolder.Bundled), args.Text("device", "cpu"),
            args.Text("precision", "fp32"), args.Int("threads", 0, 0, 1024), args.Text("out", defaultOutput));
        if (target.Cluster is not null && new[] { "model", "device", "precision", "threads" }.Any(args.WasGiven))
            throw new UsageException("--model, --device, --precision and --threads configure the embedded silo; with --cluster the silos' own configuration applies");
        // Checked before any compute, so a mistyped folder costs nothing.
        var folder = Path.GetDirectoryName(Path.GetFullPath(target.Output));
        if (folder is not null && !Directory.Exists(folder))
            throw new UsageException($"--out {target.Output}: the folder {folder} does not exist; create it or write elsewhere");
        return target;
    }
}
