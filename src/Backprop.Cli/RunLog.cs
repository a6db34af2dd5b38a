using System.Globalization;
using System.Text;
using Backprop.Runs;
using Backprop.Serialization;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>
/// <c>train --log FILE.csv</c>: one row per epoch (every <c>--log-every</c>-th, and the last) with every
/// metric the run measured, for a spreadsheet or pandas. Staged with the run's other outputs, so it is
/// written whole or not at all.
/// </summary>
/// <remarks>
/// Columns: <c>epoch</c>, <c>step</c> (steps taken by the epoch's end), <c>train_loss</c>; for
/// classification <c>train_accuracy</c>; with validation rows <c>validation_loss</c> and
/// <c>validation_accuracy</c> (classification) or <c>validation_mse</c>, <c>validation_rmse</c>,
/// <c>validation_mae</c>, <c>validation_r2</c> (regression); then <c>learning_rate</c> (of the epoch's
/// last step), <c>seconds</c> (the epoch's training time) and <c>elapsed_seconds</c> (from the start of
/// training, validation included). Numbers are written to round-trip (invariant culture, "R").
/// </remarks>
internal static class RunLog
{
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

    /// <summary>Stages the log of <paramref name="run"/> in <paramref name="files"/>.</summary>
    public static void Stage(AtomicFileSet files, string path, RunResult run, int every)
    {
        ArgumentNullException.ThrowIfNull(files);
        var bytes = Encoding.UTF8.GetBytes(Render(run, every));
        files.Stage(path, "log", s => s.Write(bytes));
    }

    /// <summary>The log's text: a header row, then a row for every <paramref name="every"/>-th epoch and the last.</summary>
    public static string Render(RunResult run, int every)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(every);
        var classification = run.Spec.IsClassification;
        var validation = run.Spec.Data.Validation is not null;
        var columns = new List<string> { "epoch", "step", "train_loss" };
        if (classification)
        {
            columns.Add("train_accuracy");
        }
        if (validation)
        {
            columns.AddRange(classification
                ? ["validation_loss", "validation_accuracy"]
                : ["validation_loss", "validation_mse", "validation_rmse", "validation_mae", "validation_r2"]);
        }
        columns.AddRange(["learning_rate", "seconds", "elapsed_seconds"]);
        var text = new StringBuilder().AppendJoin(',', columns).Append('\n');
        var epochs = run.Epochs;
        for (var i = 0; i < epochs.Count; i++)
        {
            var e = epochs[i];
            if (!Shown(e.Epoch, every, i == epochs.Count - 1))
            {
                continue;
            }
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
            text.AppendJoin(',', cells).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Whether epoch <paramref name="epoch"/> is logged or printed with <c>--log-every</c> <paramref name="every"/>: every N-th, and the last.</summary>
    public static bool Shown(int epoch, int every, bool last) => last || epoch % every == 0;

    // An absent number is an empty cell; NaN and infinities are written as .NET writes them (NaN, Infinity, -Infinity).
    private static string N(double? value) => value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "";
}
