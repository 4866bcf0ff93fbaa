using System.Globalization;

namespace DiffusionCluster.Training.Loop;

/// One line of progress for a long command (train, eval, generate): how far, a bar, and the time left at the rate so far.
public static class ProgressLine
{
    public static string Format(string what, long done, long total, TimeSpan elapsed) =>
        $"{what} {done}/{total} {Bar(done, total)} ETA {Eta(done, total, elapsed)}";

    public static string Bar(long done, long total)
    {
        int filled = (int)Math.Clamp(20 * done / Math.Max(1, total), 0, 20);
        return "[" + new string('#', filled) + new string('.', 20 - filled) + "]";
    }

    /// The time left if the rest goes at the rate so far ("--:--:--" before anything is done).
    public static string Eta(long done, long total, TimeSpan elapsed) => done <= 0 ? "--:--:--"
        : TimeSpan.FromSeconds(elapsed.TotalSeconds / done * Math.Max(0, total - done)).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);
}
