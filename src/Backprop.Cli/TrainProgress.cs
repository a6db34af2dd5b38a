using System.Diagnostics;
using System.Globalization;
using Backprop.Runs;
using Backprop.Training;
using Spectre.Console;

namespace Backprop.Cli;

/// <summary>How progress is shown while training.</summary>
internal enum ProgressStyle
{
    /// <summary>Not at all (<c>--quiet</c>).</summary>
    None,

    /// <summary>A live progress bar on stdout: stdout is a terminal.</summary>
    Bar,

    /// <summary>A plain line on stderr every few seconds: stdout is a file or a pipe.</summary>
    Lines,
}

/// <summary>
/// When and how progress shows: nothing before <paramref name="Delay"/> (so a run of milliseconds,
/// like the lesson's, shows nothing), then a bar, or a line every <paramref name="Interval"/>.
/// </summary>
internal sealed record ProgressSettings(ProgressStyle Style, TimeSpan Delay, TimeSpan Interval)
{
    /// <summary>A bar after half a second when stdout is a terminal; otherwise a line every 5 seconds.</summary>
    public static ProgressSettings For(bool stdoutIsTerminal) => stdoutIsTerminal
        ? new(ProgressStyle.Bar, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(0.1))
        : new(ProgressStyle.Lines, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
}

/// <summary>
/// Runs training on a worker thread while the calling thread shows its progress: step (and epoch),
/// loss, steps per second and time left. The monitor only stores the step's numbers; training is
/// not slowed, and its results are the same bits on any thread.
/// </summary>
internal sealed class TrainProgress
{
    private long step;
    private long firstStep = -1;
    private long epoch = 1;
    private long lossBits = BitConverter.DoubleToInt64Bits(double.NaN);

    private void OnStep(StepInfo info)
    {
        if (firstStep < 0)
        {
            // A resumed run starts at a later step: the rate counts only this run's steps.
            Volatile.Write(ref firstStep, info.Step - 1);
        }
        Volatile.Write(ref lossBits, BitConverter.DoubleToInt64Bits(info.Loss));
        Volatile.Write(ref epoch, info.Epoch);
        Volatile.Write(ref step, info.Step);
    }

    /// <summary>Carries out <paramref name="run"/>, showing progress as <paramref name="settings"/> say.</summary>
    public static RunResult Run(TrainingRun run, ProgressSettings settings, TextWriter stdout, TextWriter stderr)
    {
        if (settings.Style == ProgressStyle.None)
        {
            return run.Run();
        }
        var progress = new TrainProgress();
        run.StepCompleted += progress.OnStep;
        var clock = Stopwatch.StartNew();
        var worker = Task.Factory.StartNew(run.Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // NOTE: nothing shows before the first step: the run's preamble is written first, on the training thread.
        if (!Finished(worker, settings.Delay) && progress.AwaitFirstStep(worker))
        {
            var maxSteps = run.Spec.Options.MaxSteps;
            if (settings.Style == ProgressStyle.Bar)
            {
                progress.ShowBar(worker, maxSteps, settings.Interval, stdout);
            }
            else
            {
                do
                {
                    stderr.WriteLine(progress.Line(maxSteps, clock.Elapsed));
                }
                while (!Finished(worker, settings.Interval));
            }
        }
        return worker.GetAwaiter().GetResult();
    }

    private bool AwaitFirstStep(Task worker)
    {
        while (Volatile.Read(ref step) == 0)
        {
            if (Finished(worker, TimeSpan.FromMilliseconds(10)))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>e.g. "step 12000 of at most 100000 (epoch 3): loss 0.0123, 45000 steps/s, at most 2 s left".</summary>
    internal string Line(int maxSteps, TimeSpan elapsed)
    {
        var (s, e, loss) = (Volatile.Read(ref step), Volatile.Read(ref epoch), BitConverter.Int64BitsToDouble(Volatile.Read(ref lossBits)));
        var rate = (s - Math.Max(Volatile.Read(ref firstStep), 0)) / Math.Max(elapsed.TotalSeconds, 1e-9);
        var left = rate > 0 ? $", at most {Duration((maxSteps - s) / rate)} left" : "";
        // Full batch: every step is an epoch, so the epoch is shown only for mini-batches.
        return string.Create(CultureInfo.InvariantCulture, $"step {s} of at most {maxSteps}{(e < s ? $" (epoch {e})" : "")}: loss {loss:G4}, {rate:0} steps/s{left}");
    }

    private void ShowBar(Task worker, int maxSteps, TimeSpan interval, TextWriter stdout)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = AnsiSupport.Yes,
            Interactive = InteractionSupport.Yes,
        });
        var clock = Stopwatch.StartNew();
        var startStep = Volatile.Read(ref step);
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: Math.Max(1, maxSteps));
                do
                {
                    var (s, e, loss) = (Volatile.Read(ref step), Volatile.Read(ref epoch), BitConverter.Int64BitsToDouble(Volatile.Read(ref lossBits)));
                    var rate = (s - startStep) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                    task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"step {s}/{maxSteps}{(e < s ? $" epoch {e}" : "")}  loss {loss:G4}  {rate:0} steps/s"));
                    task.Value = s;
                    context.Refresh();
                }
                while (!Finished(worker, interval));
            });
    }

    private static bool Finished(Task worker, TimeSpan wait) => Task.WhenAny(worker, Task.Delay(wait)).GetAwaiter().GetResult() == worker;

    private static string Duration(double seconds) => seconds switch
    {
        < 60 => string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(seconds):0} s"),
        < 3600 => string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(seconds / 60):0} min {Math.Ceiling(seconds % 60):0} s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(seconds / 3600):0} h {Math.Floor(seconds % 3600 / 60):0} min"),
    };
}
