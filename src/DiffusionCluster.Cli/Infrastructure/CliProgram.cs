using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using DiffusionCluster.Shapes;

namespace DiffusionCluster.Cli.Infrastructure;

/// Runs a command line through System.CommandLine, and answers every mistake in one line (with where the options are
/// listed) and every failure in one line (DC_DEBUG=1 adds the stack trace): exit code 2 for a mistake in how the
/// command was called, 1 for a command that failed.
public static class CliProgram
{
    public static async Task<int> Run(RootCommand root, string name, string[] args, Func<Exception, bool> expected)
    {
        foreach (var version in root.Options.OfType<VersionOption>()) version.Action = new PrintVersion(name);
        // Response files (@FILE) off: a prompt may start with @.
        var line = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (line.Errors.Count > 0 || OptionLikeArguments(line).Any()) return Refuse(line, name, Mistake(line, name));
        try
        {
            // The hosts the commands start stop themselves on Ctrl+C / SIGTERM, so no termination handling here.
            return await line.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (UsageException e)
        {
            return Refuse(line, name, e.Message);
        }
        catch (Exception e)
        {
            var cause = Cause(e);
            Console.Error.WriteLine(Environment.GetEnvironmentVariable("DC_DEBUG") == "1" ? $"error: {e}"
                : expected(cause) ? $"error: {cause.Message}" : $"error: {cause.GetType().Name}: {cause.Message} (DC_DEBUG=1 prints the stack trace)");
            return 1;
        }
    }

    static int Refuse(ParseResult line, string name, string message)
    {
        var path = string.Join(' ', CommandPath(line.CommandResult).Skip(1).Prepend(name));
        Console.Error.WriteLine($"error: {message}\n({path} --help lists the options)");
        return 2;
    }

    /// The parse's errors as one sentence: unknown options and commands with the nearest known name, a missing
    /// command with the choices, otherwise the first error (ours name the option, the value and the limit).
    static string Mistake(ParseResult line, string name)
    {
        var command = line.CommandResult.Command;
        var unknown = line.UnmatchedTokens;
        var commands = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
        if (unknown.Count > 0 && !unknown[0].StartsWith('-') && commands.Count > 0 && command.Arguments.Count == 0)
            return $"unknown command \"{unknown[0]}\"{(Spelling.Closest(unknown[0], commands) is { } near ? $" (did you mean \"{near}\"?)" : "")}; commands: {string.Join(", ", commands)}";
        var options = unknown.Where(t => t.StartsWith('-')).Concat(OptionLikeArguments(line)).ToList();
        if (options.Count > 0)
        {
            var known = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Select(n => n.TrimStart('-')).ToList();
            return "unknown option " + string.Join(", ", options.Select(o => Spelling.Closest(o.TrimStart('-'), known) is { } near ? $"{o} (did you mean --{near}?)" : o));
        }
        if (unknown.Count > 0)
            return $"unexpected argument \"{unknown[0]}\" (a prompt or caption of several words goes in quotes)";
        if (commands.Count > 0 && command.Action is null)
            return $"{string.Join(' ', CommandPath(line.CommandResult).Skip(1).Prepend(name))} needs one of: {string.Join(", ", commands)}";
        return line.Errors[0].Message;
    }

    /// Unknown options the parser took as a command's argument ("eval write-dev --bogus" as the file name): a prompt,
    /// caption or file name does not start with a dash and a letter.
    static IEnumerable<string> OptionLikeArguments(ParseResult line) =>
        line.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).Select(t => t.Value)
            .Where(v => v.Length > 1 && v[0] == '-' && (char.IsLetter(v[1]) || v[1] == '-'));

    static IEnumerable<string> CommandPath(CommandResult result) =>
        result.Parent is CommandResult parent ? CommandPath(parent).Append(result.Command.Name) : [result.Command.Name];

    /// The innermost error a person can act on, where a host or task wrapped it (an embedded silo that failed to
    /// start reports its cause two or three levels down).
    public static Exception Cause(Exception error) => error switch
    {
        AggregateException { InnerExceptions.Count: 1 } aggregate => Cause(aggregate.InnerExceptions[0]),
        _ when error.InnerException is { } inner && error.GetType().Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true => Cause(inner),
        _ => error,
    };

    sealed class PrintVersion(string name) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var version = typeof(CliProgram).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";
            Console.WriteLine($"{name} {version} (.NET {Environment.Version})");
            return 0;
        }
    }
}

/// A mistake in how the command was called, found by the command itself (a missing folder, options that exclude
/// each other): printed in one line with where the options are listed, exit code 2.
public sealed class UsageException(string message) : Exception(message);
