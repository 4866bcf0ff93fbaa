namespace DiffusionCluster.Cli.Infrastructure;

/// One command's part of the usage text: its blocks (a line indented two spaces that starts with the command's
/// name, and the deeper-indented lines under it), so `COMMAND --help` shows what that command takes.
public static class CommandHelp
{
    public static string? For(string usage, string command)
    {
        var blocks = new List<string>();
        bool inBlock = false;
        foreach (var line in usage.Split('\n'))
        {
            bool head = line.Length > 2 && line.StartsWith("  ", StringComparison.Ordinal) && line[2] != ' ';
            if (head) inBlock = line[2..] == command || line[2..].StartsWith(command + " ", StringComparison.Ordinal);
            else if (!line.StartsWith("   ", StringComparison.Ordinal)) inBlock = false;
            if (inBlock) blocks.Add(line);
        }
        return blocks.Count == 0 ? null : $"diffusion-cluster {command}\n\n{string.Join('\n', blocks)}";
    }

    /// The innermost error a person can act on, where a host or task wrapped it (an embedded silo that failed to
    /// start reports its cause two or three levels down).
    public static Exception Cause(Exception error) => error switch
    {
        AggregateException { InnerExceptions.Count: 1 } aggregate => Cause(aggregate.InnerExceptions[0]),
        _ when error.InnerException is { } inner && error.GetType().Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true => Cause(inner),
        _ => error,
    };
}
