using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Backprop.Runs;
using Backprop.Training;
using Spectre.Console;

namespace Backprop.Cli;

/// <summary>How progress is shown while training.</summary>
internal enum ProgressStyle
{
    /// <summary>Not at all (<c>--quiet</c>, or a caller's own streams).</summary>
    None,

    /// <summary>A live progress bar on stdout: stdout is a terminal.</summary>
    Bar,

    /// <summary>A plain line on stderr every few seconds, flushed, without control codes: stdout is a file or a pipe.</summary>
    Lines,
}

/// <summary>
/// When and how progress shows: nothing before <paramref name="Delay"/> (so a run of milliseconds,
/// like the lesson's, shows nothing), then a bar, or a line every <paramref name="Interval"/>.
/// </summary>
internal sealed record ProgressSettings(ProgressStyle Style, TimeSpan Delay, TimeSpan Interval)
{
    /// <summary>
    /// For tests: called on the training thread after each step, before the display sees the step. A
    /// test holds training here until the display has shown progress, so that a run of milliseconds
    /// still shows some on a fast machine.
    /// </summary>
    internal Action<StepInfo>? AfterStep { get; init; }

    /// <summary>No progress display.</summary>
    public static ProgressSettings None { get; } = new(ProgressStyle.None, TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>A bar after half a second when stdout is a terminal; otherwise a line every 5 seconds.</summary>
    public static ProgressSettings For(bool stdoutIsTerminal) => stdoutIsTerminal
        ? new(ProgressStyle.Bar, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(0.1))
        : new(ProgressStyle.Lines, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
}

/// <summary>
/// Runs training on a worker thread while the calling thread shows its progress: epoch k/N, step and
/// the true percentage of the planned steps, loss, steps per second, time elapsed and time left. The
/// monitor only stores the step's numbers; training is not slowed, and its results are the same bits
/// on any thread. The run's own lines (the preamble, epoch lines) go through <see cref="Out"/>, which
/// writes them above the bar while one is shown.
/// </summary>
internal sealed class TrainProgress
{
    private readonly RunSpec spec;
    private readonly ProgressSettings settings;
    private readonly TextWriter stdout;
    private readonly TextWriter stderr;
    private readonly ConcurrentQueue<string> pending = new();
    private readonly Lock gate = new();
    private bool barShown;
    private long step;
    private long firstStep = -1;
    private long epoch = 1;
    private long lossBits = BitConverter.DoubleToInt64Bits(double.NaN);
    private long firstStepTicks;
    private int trainingEnded;
    private readonly Stopwatch clock = new();

    /// <summary>Progress of a run of <paramref name="spec"/>, shown as <paramref name="settings"/> say.</summary>
    public TrainProgress(RunSpec spec, ProgressSettings settings, TextWriter stdout, TextWriter stderr)
    {
        (this.spec, this.settings, this.stdout, this.stderr) = (spec, settings, stdout, stderr);
        Out = new LineWriter(this);
    }

    /// <summary>Where the run's own lines go: stdout, flushed line by line, above the bar while one is shown.</summary>
    public TextWriter Out { get; }

    /// <summary>Carries out <paramref name="run"/>, showing progress as <paramref name="settings"/> say.</summary>
    public static RunResult Run(TrainingRun run, ProgressSettings settings, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new TrainProgress(run.Spec, settings, stdout, stderr).Run(run);
    }

    /// <summary>Carries out <paramref name="run"/>, showing its progress.</summary>
    public RunResult Run(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (settings.Style == ProgressStyle.None)
        {
            return run.Run();
        }
        if (settings.AfterStep is { } hook)
        {
            run.StepCompleted += hook;
        }
        run.StepCompleted += OnStep;
        run.Monitors.Add(new EndWatcher(this));
        clock.Restart();
        var worker = Task.Factory.StartNew(run.Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // NOTE: nothing shows before the first step: the run's preamble is written first, on the training thread.
        if (!Finished(worker, settings.Delay) && AwaitFirstStep(worker))
        {
            if (settings.Style == ProgressStyle.Bar)
            {
                ShowBar(worker);
            }
            else
            {
                do
                {
                    // NOTE: flushed, so that a pipe or a file (nohup … > log) has each line as it happens.
                    stderr.WriteLine(Line(clock.Elapsed));
                    stderr.Flush();
                }
                while (!Finished(worker, settings.Interval));
            }
        }
        return worker.GetAwaiter().GetResult();
    }

    private void OnStep(StepInfo info)
    {
        if (firstStep < 0)
        {
            // The rate counts from the end of this run's first step: building the network and the
            // first loss take their own time, and a resumed run starts at a later step.
            Volatile.Write(ref firstStepTicks, clock.ElapsedTicks);
            Volatile.Write(ref firstStep, info.Step);
        }
        Volatile.Write(ref lossBits, BitConverter.DoubleToInt64Bits(info.Loss));
        Volatile.Write(ref epoch, info.Epoch);
        Volatile.Write(ref step, info.Step);
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

    /// <summary>The steps the stopping rules allow, or null when nothing bounds them.</summary>
    private long? Planned => spec.PlannedSteps is var p && p < int.MaxValue ? p : null;

    /// <summary>Whether a rule other than the step or epoch count may end the run sooner (so the time left is "at most").</summary>
    private bool MayStopSooner => spec.Options.MinStepSize is not null || spec.Options.TargetLoss is not null || spec.Patience is not null;

    /// <summary>
    /// e.g. "epoch 3/10, step 1266/4220 (30%): loss 0.4123, 1520 steps/s, 2 s elapsed, 5 s left"; "at most"
    /// before the time left when another rule may stop the run sooner.
    /// </summary>
    internal string Line(TimeSpan elapsed)
    {
        var (s, e, loss) = (Volatile.Read(ref step), Volatile.Read(ref epoch), BitConverter.Int64BitsToDouble(Volatile.Read(ref lossBits)));
        if (Volatile.Read(ref trainingEnded) != 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"trained {s} steps; scoring the rows, {Duration(elapsed.TotalSeconds)} elapsed");
        }
        var rate = Rate(s);
        var left = Planned is { } p && rate > 0 ? $", {(MayStopSooner ? "at most " : "")}{Duration((p - s) / rate)} left" : "";
        var speed = rate > 0 ? string.Create(CultureInfo.InvariantCulture, $", {rate:0.#} steps/s") : "";
        return string.Create(CultureInfo.InvariantCulture, $"{Position(s, e)}: loss {loss:G4}{speed}, {Duration(elapsed.TotalSeconds)} elapsed{left}");
    }

    // Steps per second since the end of this run's first step; 0 until there is a second.
    private double Rate(long s)
    {
        var first = Volatile.Read(ref firstStep);
        var seconds = (clock.ElapsedTicks - Volatile.Read(ref firstStepTicks)) / (double)Stopwatch.Frequency;
        return first > 0 && s > first && seconds > 0 ? (s - first) / seconds : 0;
    }

    // "epoch 3/10, step 1266/4220 (30%)"; the epoch only when the run counts epochs or has mini-batches.
    private string Position(long s, long e)
    {
        var text = spec.Options.Epochs is { } n ? $"epoch {Math.Min(e, n)}/{n}, " : e < s ? $"epoch {e}, " : "";
        return text + (Planned is { } p ? string.Create(CultureInfo.InvariantCulture, $"step {s}/{p} ({Math.Floor(100.0 * s / p):0}%)") : $"step {s}");
    }

    private void ShowBar(Task worker)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = AnsiSupport.Yes,
            Interactive = InteractionSupport.Yes,
        });
        lock (gate)
        {
            barShown = true;
        }
        try
        {
            console.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("training", maxValue: Math.Max(1, Planned ?? int.MaxValue));
                    do
                    {
                        // The run's own lines, written by Spectre above the bar.
                        while (pending.TryDequeue(out var line))
                        {
                            console.WriteLine(line);
                        }
                        var (s, e, loss) = (Volatile.Read(ref step), Volatile.Read(ref epoch), BitConverter.Int64BitsToDouble(Volatile.Read(ref lossBits)));
                        task.Description = Markup.Escape(Volatile.Read(ref trainingEnded) != 0
                            ? $"trained {s} steps; scoring the rows"
                            : string.Create(CultureInfo.InvariantCulture, $"{Position(s, e)}  loss {loss:G4}  {Rate(s):0.#} steps/s"));
                        task.Value = s;
                        context.Refresh();
                    }
                    while (!Finished(worker, settings.Interval));
                });
        }
        finally
        {
            lock (gate)
            {
                barShown = false;
                while (pending.TryDequeue(out var line))
                {
                    stdout.WriteLine(line);
                }
                stdout.Flush();
            }
        }
    }

    // A line of the run's own: straight to stdout, or queued for the bar's thread while the bar is shown.
    private void WriteLine(string line)
    {
        lock (gate)
        {
            if (barShown)
            {
                pending.Enqueue(line);
                return;
            }
            stdout.WriteLine(line);
            stdout.Flush();
        }
    }

    private static bool Finished(Task worker, TimeSpan wait) => Task.WhenAny(worker, Task.Delay(wait)).GetAwaiter().GetResult() == worker;

    private static string Duration(double seconds) => seconds switch
    {
        < 60 => string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(seconds):0} s"),
        < 3600 => string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(seconds / 60):0} min {Math.Floor(seconds % 60):0} s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(seconds / 3600):0} h {Math.Floor(seconds % 3600 / 60):0} min"),
    };

    /// <summary>Notes when training has ended (the run then scores its rows).</summary>
    private sealed class EndWatcher(TrainProgress owner) : IRunMonitorFactory
    {
        public TrainingMonitor<T> Create<T>(Trainer<T> trainer) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => new Monitor<T>(owner);

        private sealed class Monitor<T>(TrainProgress owner) : TrainingMonitor<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            public override void OnEnd(Trainer<T> trainer, TrainingResult result) => Volatile.Write(ref owner.trainingEnded, 1);
        }
    }

    /// <summary>A writer that hands each complete line to <see cref="TrainProgress.WriteLine"/>.</summary>
    private sealed class LineWriter(TrainProgress owner) : TextWriter
    {
        private readonly StringBuilder line = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                owner.WriteLine(line.ToString().TrimEnd('\r'));
                line.Clear();
            }
            else
            {
                line.Append(value);
            }
        }

        public override void Write(string? value)
        {
            foreach (var c in value ?? "")
            {
                Write(c);
            }
        }

        public override void WriteLine(string? value)
        {
            Write(value);
            Write('\n');
        }

        public override void WriteLine() => Write('\n');
    }
}
