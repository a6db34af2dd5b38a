using System.CommandLine;
using System.Globalization;
using Backprop.Optim;
using Backprop.Plotting;
using Backprop.Runs;
using Backprop.Serialization;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// What <c>backprop train</c> shows besides its result: pictures (<c>--plot</c>), the HTML report
/// (<c>--report</c>) and progress while training (<c>--quiet</c> turns it and the preamble off).
/// </summary>
internal sealed class TrainOutputs
{
    private readonly Option<string?> plot = new("--plot") { Description = "Write pictures of the run into this folder, as PNG and SVG: fit, loss and gradients; epochs with validation rows; a classifier's accuracy, confusion and (images) misclassified", HelpName = "DIR" };
    private readonly Option<string?> report = new("--report") { Description = "Write a self-contained HTML report of the run: the fit through training with a slider, the loss, the parameters", HelpName = "FILE.html" };
    private readonly Option<string?> log = new("--log") { Description = "Write a CSV file with a row per epoch (every --log-every-th and the last) as each ends: losses, accuracy or MSE, RMSE, MAE and R², learning rate, time; a resumed run appends to it", HelpName = "FILE.csv" };
    private readonly Option<int?> logEvery = new("--log-every") { Description = "Print (and --log) only every N-th epoch, and the last; a full-batch run without --epochs then prints its loss every N steps", HelpName = "N", CustomParser = r => RunOptions.ParseNumber<int>(r, System.Globalization.NumberStyles.Integer, "a whole number") };
    private readonly Option<bool> quiet = new("--quiet", "-q") { Description = "Print only the result: no preamble, no progress" };

    public IEnumerable<Option> Options => [plot, report, log, logEvery, quiet];

    /// <summary>The options given that draw the run (<c>--plot</c>, <c>--report</c>).</summary>
    public IEnumerable<string> Drawing(ParseResult parsed) => ((Option[])[plot, report]).Where(o => parsed.GetResult(o) is not null).Select(o => o.Name);

    /// <summary>Whether <c>--quiet</c> was given (no preamble, no progress).</summary>
    public bool Quiet(ParseResult parsed) => parsed.GetValue(quiet);

    /// <summary>Reads the options and checks, before training, that the pictures and the report can be written.</summary>
    public Choices Read(ParseResult parsed)
    {
        var folder = parsed.GetValue(plot);
        var file = parsed.GetValue(report);
        var created = folder is not null && !Directory.Exists(folder);
        if (folder is not null)
        {
            TrainingPictures.CheckFolder(folder.Length > 0 ? folder : throw new BackpropException("--plot needs a folder name."));
        }
        if (file is not null)
        {
            TrainingReportPage.CheckFile(file.Length > 0 ? file : throw new BackpropException("--report needs a file name."));
        }
        var logFile = parsed.GetValue(log);
        if (logFile is not null)
        {
            RunLog.CheckFile(logFile);
        }
        var every = parsed.GetValue(logEvery);
        if (every is <= 0)
        {
            throw new BackpropException($"--log-every must be a positive number of epochs; got {every}.");
        }
        return new Choices(folder, file, parsed.GetValue(quiet)) { CreatedPlotFolder = created, LogFile = logFile, LogEvery = every };
    }

    /// <summary>The choices made on the command line.</summary>
    public sealed record Choices(string? PlotFolder, string? ReportFile, bool Quiet)
    {
        /// <summary>The CSV log's path (<c>--log</c>), or null.</summary>
        public string? LogFile { get; init; }

        /// <summary><c>--log-every</c>: print and log every N-th epoch (and the last); null to print every epoch line.</summary>
        public int? LogEvery { get; init; }

        /// <summary>Opens the streamed log (<c>--log</c>) when training starts, or null without one.</summary>
        public RunLog? OpenLog(RunSpec spec, int? resumedStep) => LogFile is null ? null : RunLog.Open(LogFile, spec, LogEvery ?? 1, resumedStep);

        /// <summary>The line saying what the log holds.</summary>
        public string LogLine(RunResult run) => $"Log: {LogFile} ({run.Epochs.Count} epoch{(run.Epochs.Count == 1 ? "" : "s")}{(LogEvery is > 1 and var n ? $": every {n} and the last" : "")})";

        /// <summary>Whether checking <see cref="PlotFolder"/> created it (it is removed again if the run writes nothing into it).</summary>
        public bool CreatedPlotFolder { get; init; }

        /// <summary>Removes the plot folder this run created if nothing was written into it (the run failed or was interrupted).</summary>
        public void RemoveUnusedFolder()
        {
            if (CreatedPlotFolder && PlotFolder is not null && Directory.Exists(PlotFolder) && !Directory.EnumerateFileSystemEntries(PlotFolder).Any())
            {
                Directory.Delete(PlotFolder);
            }
        }

        /// <summary>Whether training must be recorded.</summary>
        public bool Records => PlotFolder is not null || ReportFile is not null;

        /// <summary>Records the run for pictures and the report, when they are wanted.</summary>
        public SnapshotSource? Recorder(RunSpec spec) => Records ? new SnapshotSource(spec.Network.AsExamples(TrainingRecord.Probe(spec.Data.Train, spec.IsClassification))) : null;

        /// <summary>Draws the pictures and the report and stages them in <paramref name="files"/>; returns a line for each thing staged.</summary>
        public IReadOnlyList<string> Stage(AtomicFileSet files, RunResult run, SnapshotSource? source)
        {
            var lines = new List<string>();
            if (source?.Recorder is not { } recorder)
            {
                return lines;
            }
            var s = run.Spec;
            var settings = new List<KeyValuePair<string, string>>
            {
                new("optimizer", s.Optimizer.DisplayName()),
                new("learning rate", F(s.LearningRate) + TrainReport.Tuning(s)),
                new("batch", s.IsMiniBatch ? $"{s.Options.BatchSize} rows" : "full batch"),
                new("stopping rules", StopRules(s.Options) + TrainReport.EarlyStopping(s)),
                new("starting values", s.Network.DescribeInit()),
                new("trained", s.Network.DescribeTrained()),
            };
            var record = new TrainingRecord(s.Data.Train, recorder, s.Loss.DisplayName, s.IsClassification, run.NetworkDescription, settings)
            {
                Classification = Classification(run),
                Epochs = run.Epochs,
            };
            if (PlotFolder is not null)
            {
                TrainingPictures.Stage(files, PlotFolder, record);
                lines.Add($"Pictures: {string.Join(", ", TrainingPictures.NamesFor(record))} (PNG and SVG) in {PlotFolder}");
            }
            if (ReportFile is not null)
            {
                TrainingReportPage.Stage(files, ReportFile, record);
                lines.Add($"Report: {ReportFile}");
            }
            return lines;
        }
    }

    /// <summary>The most confidently misclassified images drawn in a grid.</summary>
    private const int MisclassifiedImages = 25;

    // A classifier's learning curves, confusion matrix and (for images) its worst mistakes.
    private static ClassificationRecord? Classification(RunResult run)
    {
        if (run.Confusion is not { } confusion || run.ScoredData is not { } scored)
        {
            return null;
        }
        var record = new ClassificationRecord(run.Epochs, confusion, run.ConfusionSource!);
        if (run.Spec.Data.ImageSize is { } size && run.PredictedClasses is { } predicted && run.Confidences is { } confidences)
        {
            record = record with
            {
                Misclassified = Misclassification.MostConfident(scored, [.. predicted], [.. confidences], MisclassifiedImages),
                Images = scored,
                ImageHeight = size.Height,
                ImageWidth = size.Width,
            };
        }
        return record;
    }

    private static string StopRules(TrainingOptions o)
    {
        var rules = new List<string>();
        if (o.MinStepSize is { } m)
        {
            rules.Add($"every step size below {F(m)}");
        }
        if (o.TargetLoss is { } t)
        {
            rules.Add($"loss at or below {F(t)}");
        }
        if (o.Epochs is { } epochs)
        {
            rules.Add($"{epochs} epoch{(epochs == 1 ? "" : "s")}");
        }
        if (o.Epochs is null || o.MaxSteps < int.MaxValue)
        {
            rules.Add($"at most {o.MaxSteps} steps");
        }
        return string.Join("; ", rules);
    }

    private static string F(double value) => NumberText.Short(value);
}

/// <summary>Attaches a <see cref="SnapshotRecorder{T}"/> of the run's element type for its pictures and report.</summary>
internal sealed class SnapshotSource(Tensors.Tensor<double> probe) : IRunMonitorFactory
{
    private object? recorder;

    /// <summary>The finished recording in double (a float run's converted), or null before the run.</summary>
    public SnapshotRecorder<double>? Recorder => recorder switch
    {
        SnapshotRecorder<double> d => d,
        SnapshotRecorder<float> f => SnapshotRecorder<double>.CopyOf(f),
        _ => null,
    };

    public TrainingMonitor<T> Create<T>(Trainer<T> trainer) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var values = new T[probe.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = T.CreateChecked(probe.Data[i]);
        }
        var monitor = new SnapshotRecorder<T>(trainer.Model, new Tensors.Tensor<T>(values, probe.Shape));
        recorder = monitor;
        return monitor;
    }
}
