using DiffusionCluster.Abstractions;
using DiffusionCluster.Cli.Commands;
using DiffusionCluster.Cli.Infrastructure;
using DiffusionCluster.Models.Configs;
using DiffusionCluster.Shapes;

const string Usage = $"""
    diffusion-cluster <command> [options]

      generate "<prompt>" [--size 64|256|1024] [--seed N] [--out FILE.png] [--previews DIR] [--deadline-seconds S] [--ignore-unknown-words]
            [--model DIR] [--device cpu|cuda[:N]] [--precision fp32|fp16|bf16] [--threads N] | [--cluster localhost[:PORT]|"Host=...;Database=..."]
          runs the whole cascade through its grains on an embedded silo in this process (the default), or on a
          running cluster with --cluster, and writes a PNG; --previews DIR writes the image as it forms there
          (each stage's denoising estimate, up to 256 px, as STAGE-stepNNN.png)
    {StageOptions.Help}
    {EditCommand.Help}
      eval [--prompts FILE.jsonl] [--objects 1|2|3] [--limit N] [--batch N] [--no-sr | --sr-only] [--sr256-images N] [--sr1024-images N] [--likeness-images N] [--out DIR] [--model DIR] [--device cpu|cuda[:N]] [--precision fp32|fp16|bf16] [stage options]
          ShapeBench: generates each prompt (--objects: only those with that many objects), scores it with the scene parser and CLIP, measures the SR stages
          against exact renders and, through them, how like renders the first N (20) prompts' pictures look at 64, 256 and 1024 px
          (background spread, border band, edge width, outline IoU, periodic peak); writes results.json, report.md and grid.png (--sr-only: the SR stages alone,
          super-resolution.json and .md, with each SR stage's one-step denoising PSNR at t = 999 ... 100)
      eval write-dev [FILE]
          writes the dev prompt set (held-out compositions) to shapebench/dev.jsonl
      eval write-natural [FILE] [--per-category N (20)] [--seed S (2026)]
          writes prompts as people write them, by category, to shapebench/natural.jsonl (another seed: a set to tune on)

      train clip|clip-image|noisy-clip|prior|decoder64|sr256|sr1024|layout [--model DIR (default work/shapes-cascade)] [--checkpoints DIR]
            [--steps N] [--batch N] [--lr X] [--seed N] [--device cpu|cuda[:N]] [--time-limit-minutes M] [--threads N] [--init-from WEIGHTS.safetensors] [--object-weight W (decoder64, layout)] [--export-only]
          trains one component (resuming from its checkpoint folder) and writes its EMA weights into the model folder
          at every checkpoint; components after CLIP read CLIP's frozen towers from that folder; --export-only writes
          the checkpoint's EMA weights without training. recipes/shapes-cascade.sh trains them all in order
      train attributes [--train N] [--held-out N] [--model DIR] [--device D]
          fits DiffAE's attribute directions (one per colour and shape, logistic regression in the CLIP image embedding
          of N labelled renders) into the model folder and reports their held-out accuracy; `edit attribute` uses them
      train segmentation [--labelled N] [--held-out N] [--steps N] [--timesteps 50,150,400] [--blocks 0,1,2,3,4,5] [--model DIR] [--device D]
          trains the per-pixel classifier on decoder features of N labelled renders into the model folder and reports
          its mean IoU on held-out renders; `edit segment` uses it

    {ExportCommand.Help}

    {ClusterCommand.Help}
      bench networks [--device cpu|cuda[:N]] [--runs N] [--out FILE.json]
          forward time and parameter count of each default network at batch 1 and 8,
          and peak memory of the 1024x1024 super-resolution forward
      bench cluster [--size 64|256|1024] [--runs N] [--concurrency N] [--throughput-size 64|256|1024] [--model DIR]
            [--device cpu|cuda[:N]] [--precision fp32|fp16|bf16] [--threads N] [--out FILE.json]
          orchestration overhead (the same requests through the embedded cluster vs a direct in-process call of
          the same stages) and throughput of N concurrent requests at batch 1 vs with the batcher
      bench stages [--size 64|256|1024] [--batch-sizes 1,2,4] [--runs N] [--model DIR] [--device D] [--precision P] [--out FILE.json]
          each stage's batch compute time per batch size on this device: the profile `plan` reads
      bench tracing [--size 64|256|1024] [--runs N] [--model DIR] [--device cpu|cuda[:N]] [--threads N] [--ours-only]
          end-to-end latency of the same requests with tracing on and off, alternating, in one run
      bench chaos [--faults all|none|baseline,stage-silo,sole-host,request-silo,database,gateway] [--jobs N] [--size 64|256]
            [--steps N] [--burst N] [--restart-after S] [--outage S] [--sweep-seconds S] [--patience S] [--model DIR] [--out FILE.json]
            [--logs FILE (each process's last 200 lines)]
          starts PostgreSQL, 5 silos and 2 gateways as processes on loopback (from a built checkout), runs N jobs
          through obedient clients while each fault strikes, and counts completed / failed / lost / refused;
          --burst N then sends N jobs at once and counts requests per image and readiness latency
      bench scale --rate IMAGES_PER_S [--mix 64:1,256:1,1024:1] [--profile FILE.json] [--utilisation 0.7] [--front N]
            [--duration S] [--warm-up S] [--churn-every S] [--step] [--target-queue-depth N] [--max-silos N] [--silos-per-process N]
            [--time-scale F] [--fewer STAGE] [--model DIR] [--out FILE.json]
          sizes a cluster with `plan` for the rate, starts it as simulated-compute silo processes (stages take the
          profile's time; grains, routing, batching and PostgreSQL membership are real), drives Poisson load and
          reports throughput, latency per stage and end to end, queue depths and orchestration cost beside the plan;
          --churn-every S adds a phase killing and replacing a stage silo every S s, --step one at twice the rate
          with the chart's HPA rule adding silos and one back at the rate with it removing them; --silos-per-process N
          runs up to N stage silos in one process and --time-scale F makes every batch F times slower (the same
          cluster at 1/F of the rate): many silos on a small machine; --fewer STAGE runs that pool one replica
          under the plan, measured against the plan's predictions

      plan --target IMAGES_PER_S [--size 64|256|1024] --profile FILE.json [--utilisation 0.7] [--out values.yaml] [--model DIR]
            [--pools NAME=STAGE,STAGE;NAME=STAGE...]
          replicas and batching limits per stage (each pool simulated from Little's law's bound upwards on the
          measured times), with the arithmetic, written as Helm values for the chart's pools; --pools names pools
          hosting several stages (e.g. decoder64=text,prior,decoder64, as the GPU example), sized for their stages'
          combined work; a stage no pool names gets a pool of its own
    """;


string[] Commands = ["generate", "edit", "train", "eval", "export", "cluster", "bench", "plan"];

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}
if (args[0] is "--version" or "version")
{
    var version = typeof(Arguments).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";
    Console.WriteLine($"diffusion-cluster {version} (.NET {Environment.Version})");
    return 0;
}
// Help for one command, wherever the flag stands: `generate --help`, `bench chaos -h`.
if (args.Skip(1).Any(a => a is "-h" or "--help"))
{
    var help = CommandHelp.For(Usage, args[0]);
    Console.WriteLine(help ?? $"unknown command \"{args[0]}\"\n\n{Usage}");
    return help is null ? 2 : 0;
}

DiffusionCluster.Diffusion.TorchRuntime.Initialise();

try
{
    var arguments = new Arguments(args.Skip(1));
    return args[0] switch
    {
        "bench" => await BenchCommand.Run(arguments),
        "train" => TrainCommand.Run(arguments),
        "generate" => await GenerateCommand.Run(arguments),
        "edit" => await EditCommand.Run(arguments),
        "cluster" => await ClusterCommand.Run(arguments),
        "plan" => PlanCommand.Run(arguments),
        "export" => ExportCommand.Run(arguments),
        "eval" => EvalCommand.Run(arguments),
        _ => throw new UsageException($"unknown command \"{args[0]}\"{(Spelling.Closest(args[0], Commands) is { } near ? $" (did you mean \"{near}\"?)" : "")}; commands: {string.Join(", ", Commands)}"),
    };
}
catch (UsageException e)
{
    var command = CommandHelp.For(Usage, args[0]) is null ? "" : $" {args[0]}";
    Console.Error.WriteLine($"error: {e.Message}\n(diffusion-cluster{command} --help lists the options)");
    return 2;
}
catch (Exception e)
{
    // One line for the person; DC_DEBUG=1 prints where it happened, for bug reports.
    var cause = CommandHelp.Cause(e);
    bool expected = cause is ArgumentException or ModelFormatException or InvalidOperationException or FileNotFoundException or DirectoryNotFoundException
        or StageOverloadedException or OperationCanceledException or TimeoutException or Npgsql.NpgsqlException or IOException;
    Console.Error.WriteLine(Environment.GetEnvironmentVariable("DC_DEBUG") == "1" ? $"error: {e}"
        : expected ? $"error: {cause.Message}" : $"error: {cause.GetType().Name}: {cause.Message} (DC_DEBUG=1 prints the stack trace)");
    return 1;
}
