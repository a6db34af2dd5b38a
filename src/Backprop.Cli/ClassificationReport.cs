using System.Globalization;
using System.Text.Json;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>Writes a classification run: a header, one line per epoch, then accuracy, timing, memory and the confusion matrix; or one JSON object.</summary>
internal static class ClassificationReport
{
    public static void WriteHeader(TextWriter stdout, TrainSettings s, string network, int parameters, string precision)
    {
        var (train, validation, test, scaling) = s.Splits;
        stdout.WriteLine($"Training {network} ({parameters.ToString("N0", CultureInfo.InvariantCulture)} parameters, {precision})");
        var parts = new List<string> { $"{train.Count} training rows" };
        if (validation is not null)
        {
            parts.Add($"{validation.Count} validation rows");
        }
        if (test is not null)
        {
            parts.Add($"{test.Count} test rows");
        }
        parts.Add($"{train.ClassNames!.Count} classes");
        stdout.WriteLine($"on {train.Name}: {string.Join(", ", parts)}{(scaling is null ? "" : ", inputs standardised on the training rows")}");
        var batch = s.Options.BatchSize is { } b && b < train.Count ? $", batches of {b} rows shuffled with seed {s.Options.ShuffleSeed}" : ", full batch";
        stdout.WriteLine($"{s.Loss.DisplayName} loss, {s.Optimizer.Trim().ToLowerInvariant() switch { "adam" => "Adam", "momentum" => "momentum", _ => "gradient descent" }} with learning rate {F(s.LearningRate)}{batch}");
        stdout.WriteLine($"stopping {TrainReport.StopRules(s.Options)}");
        stdout.WriteLine();
        stdout.Flush();
    }

    public static void WriteEpoch(TextWriter stdout, EpochRecord e, int? epochs)
    {
        var of = epochs is { } n ? $"/{n}" : "";
        var line = $"Epoch {e.Epoch}{of}: train loss {F4(e.TrainLoss)}, accuracy {Percent(e.TrainAccuracy)}";
        if (e.ValidationLoss is { } vl)
        {
            line += $" | validation loss {F4(vl)}, accuracy {Percent(e.ValidationAccuracy)}";
        }
        stdout.WriteLine($"{line} | {e.Seconds.ToString("F2", CultureInfo.InvariantCulture)} s");
        stdout.Flush();
    }

    public static void WriteText(TextWriter stdout, ClassificationOutcome o)
    {
        var r = o.Result;
        stdout.WriteLine();
        stdout.WriteLine($"Stopped after {r.Steps} step{(r.Steps == 1 ? "" : "s")}: {r.StopMessage}");
        stdout.WriteLine($"Training loss {F4(r.InitialLoss)} → {F4(r.FinalLoss)}, training accuracy {Percent(o.Train.Accuracy)}");
        if (o.Test is { } test)
        {
            stdout.WriteLine($"Test accuracy: {Percent(test.Accuracy)} ({test.Rows} rows), test loss {F4(test.Loss)}");
        }
        if (SecondsPerEpoch(o) is { } seconds)
        {
            stdout.WriteLine($"Seconds per epoch: {seconds.ToString("F2", CultureInfo.InvariantCulture)} (median of {o.Epochs.Count})");
        }
        stdout.WriteLine($"Peak memory: {o.PeakWorkingSetBytes / (1024 * 1024)} MiB (peak working set of the process)");
        stdout.WriteLine();
        // Plain columns rather than a table: ten classes must fit 80 columns; classes are numbered in the header.
        var m = o.Confusion;
        var labels = Enumerable.Range(0, m.Classes).Select(i => $"{i} {m.ClassNames[i]}").ToArray();
        var width = Math.Max(labels.Max(l => l.Length), "observed".Length) + 1;
        var cell = Math.Max(5, m.Total.ToString(CultureInfo.InvariantCulture).Length + 1);
        stdout.WriteLine($"Confusion matrix of the {o.ConfusionSource} rows (row: observed class, column: predicted class)");
        var header = new System.Text.StringBuilder("observed".PadRight(width));
        for (var j = 0; j < m.Classes; j++)
        {
            header.Append(j.ToString(CultureInfo.InvariantCulture).PadLeft(cell));
        }
        stdout.WriteLine(header.Append("  correct").ToString());
        for (var i = 0; i < m.Classes; i++)
        {
            var line = new System.Text.StringBuilder(labels[i].PadRight(width));
            long row = 0;
            for (var j = 0; j < m.Classes; j++)
            {
                line.Append(m[i, j].ToString(CultureInfo.InvariantCulture).PadLeft(cell));
                row += m[i, j];
            }
            line.Append((row == 0 ? "–" : Percent((double)m[i, i] / row)).PadLeft(9));
            stdout.WriteLine(line.ToString());
        }
    }

    public static void WriteJson(TextWriter stdout, ClassificationOutcome o)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            var r = o.Result;
            json.WriteStartObject();
            json.WriteNumber("steps", r.Steps);
            json.WriteString("stopReason", JsonNamingPolicy.CamelCase.ConvertName(r.StopReason.ToString()));
            Number(json, "initialLoss", r.InitialLoss);
            Number(json, "loss", r.FinalLoss);
            json.WriteNumber("parameterCount", o.ParameterCount);
            json.WriteStartArray("epochs");
            foreach (var e in o.Epochs)
            {
                json.WriteStartObject();
                json.WriteNumber("epoch", e.Epoch);
                Number(json, "trainLoss", e.TrainLoss);
                Number(json, "trainAccuracy", e.TrainAccuracy);
                Number(json, "validationLoss", e.ValidationLoss);
                Number(json, "validationAccuracy", e.ValidationAccuracy);
                Number(json, "seconds", e.Seconds);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            Number(json, "trainAccuracy", o.Train.Accuracy);
            Number(json, "validationAccuracy", o.Epochs.Count > 0 ? o.Epochs[^1].ValidationAccuracy : null);
            Number(json, "testLoss", o.Test?.Loss);
            Number(json, "testAccuracy", o.Test?.Accuracy);
            Number(json, "secondsPerEpoch", SecondsPerEpoch(o));
            json.WriteNumber("peakMemoryBytes", o.PeakWorkingSetBytes);
            json.WriteStartArray("classes");
            foreach (var name in o.Confusion.ClassNames)
            {
                json.WriteStringValue(name);
            }
            json.WriteEndArray();
            json.WriteString("confusionMatrixOf", o.ConfusionSource);
            json.WriteStartArray("confusionMatrix");
            for (var i = 0; i < o.Confusion.Classes; i++)
            {
                json.WriteStartArray();
                for (var j = 0; j < o.Confusion.Classes; j++)
                {
                    json.WriteNumberValue(o.Confusion[i, j]);
                }
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteStartArray("predictions");
            foreach (var p in o.Predictions)
            {
                json.WriteNumberValue(p);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>The median time of the epochs (the mean of the middle two for an even count); null without a completed epoch.</summary>
    public static double? SecondsPerEpoch(ClassificationOutcome o)
    {
        if (o.Epochs.Count == 0)
        {
            return null;
        }
        var sorted = o.Epochs.Select(e => e.Seconds).Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    // JSON has no NaN or infinity, and absent figures are null.
    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static string Short(string name) => name.Length <= 8 ? name : name[..7] + "…";

    private static string Percent(double? value) => value is { } v ? (100 * v).ToString("F2", CultureInfo.InvariantCulture) + "%" : "–";

    private static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static string F4(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
