using System.CommandLine;
using DiffusionCluster.Models.Cascade;
using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.ServiceDefaults;
using DiffusionCluster.Training.Loop;

namespace DiffusionCluster.Cli.Commands;

/// `generate "<prompt>"`: runs the cascade through its grains, on an embedded single-process silo (the
/// default) or on a running cluster (--cluster), and writes the PNG.
public static class GenerateCommand
{
    public static Command Create()
    {
        var prompt = new Argument<string>("prompt") { Description = "what to draw, in quotes (docs/VOCABULARY.md lists the words the bundled cascade knows)" };
        var previews = CliOption.OptionalText("--previews", "a folder to write the image into as it forms (each stage's denoising estimate, up to 256 px, as STAGE-stepNNN.png)", "DIR");
        var target = new RunTargetOptions("image.png");
        var request = new RequestOptions(deadline: true);
        var command = new Command("generate", "Runs the whole cascade through its grains, on an embedded silo in this process (the default) "
            + "or on a running cluster (--cluster), and writes a PNG.") { prompt, previews };
        target.AddTo(command);
        request.AddTo(command);
        command.SetAction(async (line, _) =>
        {
            var folder = line.GetValue(previews);
            if (folder is not null && !Directory.Exists(folder))
                throw new UsageException($"--previews {folder}: the folder does not exist; create it or name another");
            var spec = request.Read(line, line.GetValue(prompt)!);
            return await Submit(target.Read(line), spec with { Previews = folder is not null }, folder);
        });
        return command;
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
        // Each stage's ETA from its own steps so far.
        (CascadeStage Stage, System.Diagnostics.Stopwatch Clock)? running = null;
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
                if (running?.Stage != stage) running = (stage, System.Diagnostics.Stopwatch.StartNew());
                var line = p.TotalSteps > 0 ? ProgressLine.Format($"{stage.Name(),-10} step", p.Step, p.TotalSteps, running.Value.Clock.Elapsed) : $"{stage.Name(),-10} running";
                if (line == last) continue;
                Console.Error.Write($"\r{line,-60}");
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
public sealed record RunTarget(string? Cluster, string Model, string Device, string Precision, int Threads, string Output);

/// The options that say where a request runs and where its PNG goes.
public sealed class RunTargetOptions(string defaultOutput)
{
    readonly Option<string?> _cluster = CliOption.OptionalText("--cluster", "run on a running cluster: a gateway silo (localhost[:PORT]) or its PostgreSQL membership (\"Host=...;Database=...\")", "WHERE");
    readonly Option<string> _model = CliOption.Model("the model folder (embedded silo)");
    readonly Option<string> _device = CliOption.Device("cpu or cuda[:N] (embedded silo)");
    readonly Option<string> _precision = CliOption.Precision("fp32, fp16 or bf16 (embedded silo)");
    readonly Option<int> _threads = CliOption.Threads("compute threads, 0 for the machine's cores (embedded silo)");
    readonly Option<string?> _out = CliOption.OutputFile("--out", "the PNG to write (its folder must exist)", defaultOutput, "FILE.png");

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _cluster, _model, _device, _precision, _threads, _out }) command.Options.Add(option);
    }

    public RunTarget Read(ParseResult line)
    {
        var target = new RunTarget(line.GetValue(_cluster), line.GetValue(_model)!, line.GetValue(_device)!, line.GetValue(_precision)!,
            line.GetValue(_threads), line.GetValue(_out)!);
        if (target.Cluster is not null && new Option[] { _model, _device, _precision, _threads }.Any(line.Given))
            throw new UsageException("--model, --device, --precision and --threads configure the embedded silo; with --cluster the silos' own configuration applies");
        return target;
    }
}
