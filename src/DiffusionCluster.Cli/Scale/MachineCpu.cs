namespace DiffusionCluster.Cli.Scale;

/// The machine's CPU time from /proc/stat (Linux), for saying how busy every core was over a phase: the figure
/// that tells a simulated cluster limited by its own orchestration from one limited by this machine.
public static class MachineCpu
{
    /// Busy and total jiffies over all cores since boot; null where /proc/stat is not there.
    public static (long Busy, long Total)? Read()
    {
        if (!File.Exists("/proc/stat")) return null;
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        long total = fields.Take(8).Sum(); // user nice system idle iowait irq softirq steal
        long idle = fields[3] + fields[4];
        return (total - idle, total);
    }

    /// The share of all cores' time that was busy since `before` (0 to 1); null where it cannot be read.
    public static double? BusySince((long Busy, long Total)? before) =>
        before is { } b && Read() is { } now && now.Total > b.Total ? (double)(now.Busy - b.Busy) / (now.Total - b.Total) : null;
}
