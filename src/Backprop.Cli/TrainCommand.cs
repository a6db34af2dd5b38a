using System.CommandLine;
using Backprop.Diagnostics;
using Backprop.Runs;
using Backprop.Serialization;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// <c>backprop train</c> (and <c>backprop</c> alone): builds a network, trains it by backpropagation
/// and reports the result. With no options: the lesson's network, data and settings.
/// </summary>
internal sealed class TrainCommand(TextWriter stdout)
{
    private readonly RunOptions options = new();
    private readonly TuningOptions tuning = new();
    private readonly TrainOutputs outputs = new();
    private readonly CheckpointOptions checkpoints = new();
    private readonly Option<bool> json = new("--json") { Description = "Print one JSON object and nothing else" };
    private readonly Option<bool> distributed = new("--distributed") { Description = "Train data-parallel on the processes mpirun started (mpirun -np N backprop train …); refuse to run on one process alone. Under mpirun this is the default" };
    private readonly Option<bool> monitor = new("--monitor") { Description = "Watch gradient health: each layer's gradient norm every step, vanishing and exploding gradients, dead ReLU units; stop at the first NaN or infinity" };
    private readonly Option<string?> output = new("--out") { Description = "Save the trained model to this file (see docs/model-format.md); an existing file is replaced whole", HelpName = "FILE", CustomParser = ModelOptions.FileName };

    public void AddTo(Command command)
    {
        options.AddNetworkOptions(command);
        options.AddTrainingOptions(command);
        options.AddDatasetOptions(command);
        foreach (var option in tuning.Options)
        {
            command.Options.Add(option);
        }
        command.Options.Add(monitor);
        command.Options.Add(distributed);
        command.Options.Add(output);
        foreach (var option in (Option[])[.. outputs.Options, .. checkpoints.Options])
        {
            command.Options.Add(option);
        }
        command.Options.Add(json);
    }

    /// <summary>How progress shows while training; set by the command line's caller (is stdout a terminal?).</summary>
    public ProgressSettings Progress { get; init; } = ProgressSettings.For(stdoutIsTerminal: false);

    /// <summary>Interrupts training after this step as a first Ctrl-C would (tests); null for only real signals.</summary>
    public int? InterruptAtStep { get; init; }

    /// <summary>Where progress lines go when stdout is not a terminal.</summary>
    public TextWriter Stderr { get; init; } = TextWriter.Null;

    public int Invoke(ParseResult parsed)
    {
        // Under mpirun (or with --distributed): MPI starts; rank 0 reads the checkpoint for every process,
        // and only rank 0 writes (the other ranks' output is dropped: Program).
        using var group = DistributedTraining.Start(parsed.GetValue(distributed));
        var root = group is null || group.IsRoot;
        if (group is not null)
        {
            checkpoints.Loader = group.LoadCheckpoint;
        }
        var resumed = checkpoints.ReadResume(parsed);
        if (resumed is { Args: var args })
        {
            // The checkpoint's options, parsed as if they had been given: the run continues as it was started.
            var command = new Command("train");
            AddTo(command);
            parsed = command.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                throw new BackpropException($"{resumed.Value.File}: invalid checkpoint: its options do not parse: {parsed.Errors[0].Message}");
            }
        }
        var spec = tuning.Apply(parsed, options.Read(parsed));
        if (group is not null)
        {
            spec = spec with { Distributed = group.Group };
        }
        var asJson = parsed.GetValue(json);
        var quiet = outputs.Quiet(parsed);
        var modelFile = parsed.GetValue(output);
        using var interruption = Interruption.Listen(InterruptAtStep);
        var plan = checkpoints.Plan(parsed, spec, modelFile, resumed, interruption, writes: group is null);
        var shown = new TrainOutputs.Choices(null, null, Quiet: true);
        void CheckOutputs()
        {
            if (modelFile is not null)
            {
                ModelOptions.CheckWritable(modelFile);
                CheckSavable(spec);
            }
            RunFiles.Check(parsed, modelFile, plan.Path, resumed?.File);
            shown = outputs.Read(parsed);
        }
        if (group is null)
        {
            CheckOutputs();
        }
        else
        {
            // Only rank 0 writes, so only rank 0 checks where; every process stops if it refuses.
            group.OnRoot(() =>
            {
                plan.CheckFolder();
                CheckOutputs();
            });
            plan.Writes = root;
            group.CheckpointFile = plan.Path;
            modelFile = root ? modelFile : null;
        }
        IReadOnlyList<string> written;
        RunResult result;
        HealthSource? health;
        RunLog? log = null;
        try
        {
            var run = new TrainingRun(spec) { Resume = plan.ResumeState };
            run.Monitors.Add(plan);
            var recorder = shown.Recorder(spec);
            if (recorder is not null)
            {
                run.Monitors.Add(recorder);
            }
            health = parsed.GetValue(monitor) ? new HealthSource() : null;
            if (health is not null)
            {
                run.Monitors.Add(health);
            }
            // With --log-every, a full-batch run without --epochs (the lesson's) prints its loss every N steps too.
            var epochLines = !asJson && !quiet && (TrainReport.EpochLines(spec) || shown.LogEvery is not null);
            var every = shown.LogEvery ?? 1;
            EpochRecord? unprinted = null;
            // No progress with --quiet; with --json on a terminal, plain lines on stderr keep stdout one JSON object.
            var settings = quiet ? ProgressSettings.None
                : asJson && Progress.Style == ProgressStyle.Bar ? ProgressSettings.For(stdoutIsTerminal: false) : Progress;
            var progress = new TrainProgress(spec, settings, stdout, Stderr);
            // The preamble and the epoch lines go through the progress display: above its bar while one is shown.
            var lines = progress.Out;
            if (!asJson && !quiet)
            {
                run.Started += start => TrainReport.WriteHeader(lines, spec, start);
            }
            if (shown.LogFile is not null)
            {
                // Streamed: opened when training starts (after the network is built), a row flushed as each epoch ends.
                var resumedStep = resumed?.Checkpoint.Steps;
                run.Started += _ => log = shown.OpenLog(spec, resumedStep);
                run.EpochCompleted += e => log?.Add(e);
            }
            if (epochLines)
            {
                run.EpochCompleted += e =>
                {
                    unprinted = e;
                    if (RunLog.Shown(e.Epoch, every, e.Epoch == spec.Options.Epochs))
                    {
                        TrainReport.WriteEpoch(lines, e, spec);
                        unprinted = null;
                    }
                };
            }
            result = group is null ? progress.Run(run) : group.Train(() => progress.Run(run));
            if (unprinted is { } last)
            {
                // The last epoch is always shown, also when the run stopped before its number came round.
                TrainReport.WriteEpoch(stdout, last, spec);
            }
            if (epochLines && !TrainReport.EpochLines(spec) && result.Epochs.Count > 0)
            {
                stdout.WriteLine();
            }
            interruption.Dispose();
            // The log is put in place also when the run was interrupted: its rows are the epochs it finished.
            log?.Close();
            if (result.Interrupted)
            {
                throw new TrainingInterruptedException(plan.InterruptedLine(result.Result.Steps));
            }
            // Everything is rendered and staged first, then renamed into place together: a failure
            // half-way leaves none of the outputs and every earlier file as it was.
            using var files = new AtomicFileSet();
            written = shown.Stage(files, result, recorder);
            if (log is not null)
            {
                written = [shown.LogLine(result), .. written];
            }
            if (modelFile is not null)
            {
                var bytes = result.ToModelBytes();
                files.Stage(modelFile, "model", s => s.Write(bytes));
                written = [.. written, $"Model saved to {modelFile}"];
            }
            files.Commit();
        }
        finally
        {
            // A run that failed keeps the log of the epochs it finished (a no-op once closed).
            log?.Dispose();
            // Nothing else is left behind by a run that failed or was interrupted, not even the empty folder it made.
            shown.RemoveUnusedFolder();
        }
        var peak = PeakWorkingSet();
        if (asJson)
        {
            TrainReport.WriteJson(stdout, result, peak, health);
        }
        else
        {
            TrainReport.WriteText(stdout, result, peak, health);
            foreach (var line in quiet ? [] : written)
            {
                stdout.WriteLine(line);
            }
        }
        if (result.Diverged)
        {
            // NOTE: said on stderr even with --json or --quiet, and with its own exit code, so that a script notices.
            Stderr.WriteLine($"backprop: warning: training diverged: {result.DivergenceMessage}");
            return BackpropCli.Diverged;
        }
        return BackpropCli.Success;
    }

    // NOTE: before training, so that a long run does not end in a network its model file cannot hold.
    private static void CheckSavable(RunSpec spec)
    {
        try
        {
            _ = new Model<float>(spec.Network.Build<float>(), spec.Network.InputShape);
        }
        catch (BackpropException e)
        {
            throw new BackpropException($"--out cannot save this network: {e.Message}", e);
        }
    }

    private static long PeakWorkingSet()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64;
    }
}

/// <summary>Attaches a <see cref="GradientHealthMonitor{T}"/> of the run's element type (<c>--monitor</c>).</summary>
internal sealed class HealthSource : IRunMonitorFactory
{
    /// <summary>The monitor, once the run has started: a GradientHealthMonitor of float or double.</summary>
    public object? Monitor { get; private set; }

    public TrainingMonitor<T> Create<T>(Trainer<T> trainer) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var monitor = new GradientHealthMonitor<T>();
        Monitor = monitor;
        return monitor;
    }
}
