namespace DiffusionCluster.Cli.Infrastructure;

/// Resident-set figures of this process from /proc (Linux), for peak-memory benchmarks.
public static class ProcessMemory
{
    /// Resets the kernel's peak-RSS mark (VmHWM) to the current RSS; false where that is not supported.
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static double PeakMegabytes() => ReadStatusKilobytes("VmHWM:") / 1024.0;

    public static double CurrentMegabytes() => ReadStatusKilobytes("VmRSS:") / 1024.0;

    static long ReadStatusKilobytes(string field)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0]);
    }
}
