using System.CommandLine;
using System.CommandLine.Help;

namespace Backprop.Cli;

/// <summary>
/// The <c>backprop</c> command: parses the command line, runs a subcommand and turns every problem
/// a user can fix into one line on stderr with exit code 2 — never a stack trace.
/// </summary>
public static class BackpropCli
{
    /// <summary>Exit code for success.</summary>
    public const int Success = 0;

    /// <summary>Exit code for an unexpected internal error.</summary>
    public const int InternalError = 1;

    /// <summary>Exit code for bad input: an option, a file, a network that does not fit its data.</summary>
    public const int BadInput = 2;

    /// <summary>
    /// Exit code when training diverged: a loss or gradient became NaN or infinite, or the loss grew by
    /// orders of magnitude. The run's outputs are written (with the last finite parameters) and a warning goes to stderr.
    /// </summary>
    public const int Diverged = 3;

    /// <summary>Exit code when training was interrupted (Ctrl-C, SIGTERM) and its checkpoint saved: 128 + SIGINT, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>
    /// Runs the command line <paramref name="args"/>, writing to the given streams; returns the exit code.
    /// No progress is shown (the program itself shows a bar on a terminal, or a line every few seconds on
    /// stderr), so what is written depends on the arguments alone, not on how long training takes.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
        => Run(args, stdout, stderr, ProgressSettings.None);

    /// <summary>
    /// Runs the command line, showing training progress as <paramref name="progress"/> says; with
    /// <paramref name="interruptAtStep"/>, <c>train</c> is interrupted after that step as by Ctrl-C (for tests: the same step every time).
    /// </summary>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, ProgressSettings progress, int? interruptAtStep = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var train = new TrainCommand(stdout) { Progress = progress, Stderr = stderr, InterruptAtStep = interruptAtStep };
        // A plain Command, not RootCommand, so that help says "backprop" whatever the executable is called.
        var root = new Command("backprop", "Backprop: neural networks trained by backpropagation. With no command, trains the lesson's network on the dosage data (same as 'backprop train'). 'backprop help COMMAND' shows a command's options.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        train.AddTo(root);
        root.SetAction(train.Invoke);
        var trainCommand = new Command("train", "Train a network by backpropagation (default: the lesson's network on the dosage data).");
        train.AddTo(trainCommand);
        trainCommand.SetAction(train.Invoke);
        root.Subcommands.Add(trainCommand);
        root.Subcommands.Add(new ExplainCommand(stdout).Create());
        root.Subcommands.Add(new GradcheckCommand(stdout).Create());
        root.Subcommands.Add(new GraphCommand(stdout).Create());
        root.Subcommands.Add(PredictCommand.Create(stdout));
        root.Subcommands.Add(EvaluateCommand.Create(stdout));
        root.Subcommands.Add(ExportCommand.Create(stdout));
        root.Subcommands.Add(new BenchCommand(stdout).Create());
        root.Subcommands.Add(new ServeCommand(stdout, stderr).Create());

        // 'backprop help' and 'backprop help train' are 'backprop --help' and 'backprop train --help'.
        if (args is ["help", .. var rest])
        {
            args = [.. rest.Take(1), "--help"];
        }
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command == root ? "backprop" : $"backprop {parsed.CommandResult.Command.Name}";
            var message = parsed.Errors[0].Message;
            if (Suggestion(parsed) is { } suggestion)
            {
                message = $"{message.TrimEnd('.')}; did you mean '{suggestion}'?";
            }
            stderr.WriteLine($"backprop: {message} (see '{command} --help')");
            return BadInput;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (TrainingInterruptedException e)
        {
            if (!e.Reported)
            {
                stderr.WriteLine($"backprop: {e.Message}");
            }
            return Interrupted;
        }
        catch (BackpropException e)
        {
            stderr.WriteLine($"backprop: {e.Message.ReplaceLineEndings(" ")}");
            return BadInput;
        }
#pragma warning disable CA1031 // The last line of defence: a person gets one line, not a stack trace.
        catch (Exception e)
#pragma warning restore CA1031
        {
            stderr.WriteLine($"backprop: internal error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")} (please report this)");
            return InternalError;
        }
    }

    // The option (or command) closest to the first unknown token, when it is close enough to be a typo.
    private static string? Suggestion(ParseResult parsed)
    {
        if (parsed.UnmatchedTokens is not [{ Length: > 1 } token, ..])
        {
            return null;
        }
        var command = parsed.CommandResult.Command;
        IEnumerable<string> names = token.StartsWith('-')
            ? command.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
            : command.Subcommands.Select(c => c.Name);
        var best = names.Select(n => (Name: n, Distance: Distance(token, n))).OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(1, token.TrimStart('-').Length / 3) ? best.Name : null;
    }

    // Levenshtein distance: the fewest insertions, deletions and substitutions that turn a into b.
    internal static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
