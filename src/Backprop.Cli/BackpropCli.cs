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

    /// <summary>Exit code when training was interrupted (Ctrl-C, SIGTERM) and its checkpoint saved: 128 + SIGINT, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>Runs the command line <paramref name="args"/>, writing to the given streams; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
        => Run(args, stdout, stderr, ProgressSettings.For(stdoutIsTerminal: false));

    /// <summary>Runs the command line, showing training progress as <paramref name="progress"/> says.</summary>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, ProgressSettings progress)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var train = new TrainCommand(stdout) { Progress = progress, Stderr = stderr };
        // A plain Command, not RootCommand, so that help says "backprop" whatever the executable is called.
        var root = new Command("backprop", "Backprop: neural networks trained by backpropagation. With no command, trains the lesson's network on the dosage data (same as 'backprop train').")
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

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command == root ? "backprop" : $"backprop {parsed.CommandResult.Command.Name}";
            stderr.WriteLine($"backprop: {parsed.Errors[0].Message} (see '{command} --help')");
            return BadInput;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (TrainingInterruptedException e)
        {
            stderr.WriteLine($"backprop: {e.Message}");
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
}
