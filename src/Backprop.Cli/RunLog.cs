using System.Globalization;
using System.Text;
using Backprop.Runs;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// <c>train --log FILE.csv</c>: one row per epoch (every <c>--log-every</c>-th, and the last) with every
/// metric the run measured, for a spreadsheet or pandas, written as each epoch ends (Keras's
/// <c>CSVLogger</c>): each row is flushed, so <c>tail -f</c> follows it, and a run that is interrupted or
/// fails keeps the rows of the epochs it finished.
/// </summary>
/// <remarks>
/// <para>
/// Columns: <c>epoch</c>, <c>step</c> (steps taken by the epoch's end), <c>train_loss</c>; for
/// classification <c>train_accuracy</c>; with validation rows <c>validation_loss</c> and
/// <c>validation_accuracy</c> (classification) or <c>validation_mse</c>, <c>validation_rmse</c>,
/// <c>validation_mae</c>, <c>validation_r2</c> (regression); then <c>learning_rate</c> (of the epoch's
/// last step), <c>seconds</c> (the epoch's training time) and <c>elapsed_seconds</c> (from the start of
/// this process's training, validation included). Numbers are written to round-trip (invariant culture, "R").
/// </para>
/// <para>
/// Nothing a user had is half-written: a new file is created and the rows go straight into it; a file
/// that is already there is replaced whole — the rows go to a temporary file beside it, renamed over it
/// when the run ends, is interrupted or fails (only a killed process leaves the old file as it was). A
/// resumed run (<c>--resume</c>: the checkpoint records <c>--log</c>) appends to its log as Keras's
/// <c>append=True</c> does, after dropping any rows of steps past the checkpoint (a run killed after a
/// periodic checkpoint), so the log reads as one uninterrupted run's. A device (<c>/dev/null</c>) is written into.
/// </para>
/// </remarks>
internal sealed class RunLog : IDisposable
{
    private readonly string path;
    private readonly string target;
    private readonly string? temp;
    private readonly bool classification;
    private readonly bool validation;
    private readonly int every;
    private readonly int? lastEpoch;
    private FileStream? stream;
    private EpochRecord? pending;

    private RunLog(string path, string target, string? temp, FileStream stream, RunSpec spec, int every)
    {
        (this.path, this.target, this.temp, this.stream, this.every) = (path, target, temp, stream, every);
        classification = spec.IsClassification;
        validation = spec.Data.Validation is not null;
        lastEpoch = spec.Options.Epochs;
    }

    /// <summary>Checks before training that <paramref name="path"/> can be written.</summary>
    /// <exception cref="BackpropException">The path is a folder, or its folder is missing.</exception>
    public static void CheckFile(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new BackpropException("--log needs a file name.");
        }
        if (Directory.Exists(path))
        {
            throw new BackpropException($"--log needs a file name, but '{path}' is a folder.");
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
        {
            throw new BackpropException($"--log cannot write '{path}': the folder '{folder}' does not exist.");
        }
    }

    /// <summary>
    /// Opens the log of a run of <paramref name="spec"/> when training starts; <paramref name="resumedStep"/>
    /// is the checkpoint's step when the run resumes (its log is continued).
    /// </summary>
    /// <exception cref="BackpropException">The file cannot be written.</exception>
    public static RunLog Open(string path, RunSpec spec, int every, int? resumedStep)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(every);
        var header = Header(spec);
        try
        {
            var full = Path.GetFullPath(path);
            if (!OperatingSystem.IsWindows() && (full.StartsWith("/dev/", StringComparison.Ordinal) || full.StartsWith("/proc/", StringComparison.Ordinal)))
            {
                // A device or the process's own output: written into, never replaced.
                return Start(new RunLog(path, full, null, new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1), spec, every), header, []);
            }
            // A symbolic link is followed: the file it names is written, and the link stays.
            var info = new FileInfo(full);
            var target = info.LinkTarget is not null ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full : full;
            List<string> kept = [];
            if (File.Exists(target) && resumedStep is { } step)
            {
                var lines = File.ReadAllLines(target);
                if (lines is [var first, ..] && first == header)
                {
                    kept = [.. lines.Skip(1).TakeWhile(l => StepOf(l) is { } s && s <= step)];
                    if (kept.Count == lines.Length - 1 && File.ReadAllText(target).EndsWith('\n'))
                    {
                        // Keras's append=True: the rows so far are the interrupted run's, up to its checkpoint.
                        return new RunLog(path, target, null, new FileStream(target, FileMode.Append, FileAccess.Write, FileShare.Read), spec, every);
                    }
                }
            }
            if (!File.Exists(target))
            {
                try
                {
                    return Start(new RunLog(path, target, null, new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.Read), spec, every), header, kept);
                }
                catch (IOException) when (File.Exists(target))
                {
                    // Another process created it first: it is replaced whole, as any file already there.
                }
            }
            var temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
            return Start(new RunLog(path, target, temp, new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.Read), spec, every), header, kept);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackpropException($"{path}: cannot write the log: {e.Message}", e);
        }
    }

    private static RunLog Start(RunLog log, string header, List<string> rows)
    {
        log.WriteLine(header);
        foreach (var row in rows)
        {
            log.WriteLine(row);
        }
        return log;
    }

    /// <summary>Logs <paramref name="epoch"/> if it is an N-th one (or the run's last); others wait in case they are the last.</summary>
    /// <exception cref="BackpropException">The file cannot be written.</exception>
    public void Add(EpochRecord epoch)
    {
        if (Shown(epoch.Epoch, every, epoch.Epoch == lastEpoch))
        {
            WriteLine(Row(epoch));
            pending = null;
        }
        else
        {
            pending = epoch;
        }
    }

    /// <summary>Logs the last epoch if it was not, and puts the file in place; nothing more is written.</summary>
    /// <exception cref="BackpropException">The file cannot be written.</exception>
    public void Close()
    {
        if (stream is null)
        {
            return;
        }
        try
        {
            if (pending is { } last)
            {
                WriteLine(Row(last));
                pending = null;
            }
            stream.Flush(flushToDisk: temp is not null);
            stream.Dispose();
            stream = null;
            if (temp is not null)
            {
                File.Move(temp, target, overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackpropException($"{path}: cannot write the log: {e.Message}", e);
        }
        finally
        {
            stream?.Dispose();
            stream = null;
        }
    }

    /// <summary>Closes the log if <see cref="Close"/> was not called (the run failed): its rows are kept; a second failure is not reported over the first.</summary>
    public void Dispose()
    {
        try
        {
            Close();
        }
        catch (BackpropException)
        {
            // The run's own error is the one reported.
        }
        if (temp is not null && File.Exists(temp))
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left behind: a hidden file beside the log.
            }
        }
    }

    /// <summary>Whether epoch <paramref name="epoch"/> is logged or printed with <c>--log-every</c> <paramref name="every"/>: every N-th, and the last.</summary>
    public static bool Shown(int epoch, int every, bool last) => last || epoch % every == 0;

    /// <summary>The header row of a run of <paramref name="spec"/>.</summary>
    public static string Header(RunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var columns = new List<string> { "epoch", "step", "train_loss" };
        if (spec.IsClassification)
        {
            columns.Add("train_accuracy");
        }
        if (spec.Data.Validation is not null)
        {
            columns.AddRange(spec.IsClassification
                ? ["validation_loss", "validation_accuracy"]
                : ["validation_loss", "validation_mse", "validation_rmse", "validation_mae", "validation_r2"]);
        }
        columns.AddRange(["learning_rate", "seconds", "elapsed_seconds"]);
        return string.Join(',', columns);
    }

    private string Row(EpochRecord e)
    {
        var cells = new List<string> { e.Epoch.ToString(CultureInfo.InvariantCulture), e.Step.ToString(CultureInfo.InvariantCulture), N(e.TrainLoss) };
        if (classification)
        {
            cells.Add(N(e.TrainAccuracy));
        }
        if (validation)
        {
            cells.Add(N(e.ValidationLoss));
            if (classification)
            {
                cells.Add(N(e.ValidationAccuracy));
            }
            else
            {
                var m = e.ValidationMetrics;
                cells.AddRange([N(m?.Mse), N(m?.Rmse), N(m?.Mae), N(m?.RSquared)]);
            }
        }
        cells.AddRange([N(e.LearningRate), N(e.Seconds), N(e.ElapsedSeconds)]);
        return string.Join(',', cells);
    }

    // One whole line per write, flushed: a reader (tail -f, pandas) never sees half a row.
    private void WriteLine(string line)
    {
        var s = stream ?? throw new InvalidOperationException("The log is closed.");
        try
        {
            s.Write(Encoding.UTF8.GetBytes(line + "\n"));
            s.Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackpropException($"{path}: cannot write the log: {e.Message}", e);
        }
    }

    // The step column of a logged row, or null for a line that is not one.
    private static long? StepOf(string row)
        => row.Split(',') is [_, var step, ..] && long.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : null;

    // An absent number is an empty cell; NaN and infinities are written as .NET writes them (NaN, Infinity, -Infinity).
    private static string N(double? value) => value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "";
}
