using System.Globalization;
using Backprop.Data;

namespace Backprop.Cli;

/// <summary>
/// Rows of inputs for <c>backprop predict</c>: one row from <c>--input 0.5,1</c>, or every row of a
/// CSV file that holds the model's input columns (and, optionally, one more column that is ignored:
/// the target of a training file). A first row with a non-numeric cell is a header.
/// </summary>
internal static class InputRows
{
    public static double[] Parse(string text, int inputs)
    {
        var cells = text.Split(',');
        if (cells.Length != inputs)
        {
            throw new BackpropException($"--input has {cells.Length} number{(cells.Length == 1 ? "" : "s")}; the model takes {inputs} (separate them with commas).");
        }
        var row = new double[inputs];
        for (var i = 0; i < inputs; i++)
        {
            if (!TryNumber(cells[i], out row[i]) || !double.IsFinite(row[i]))
            {
                throw new BackpropException($"--input: {Quote(cells[i])} is not a finite number.");
            }
        }
        return row;
    }

    public static (double[] Values, int Rows, string[]? Header) Read(string path, int inputs)
    {
        string[] lines;
        try
        {
            // Split as the CSV reader splits, never into one line longer than it allows (/dev/zero has no line breaks).
            using var reader = new StreamReader(path);
            lines = [.. CsvDataset.Lines(reader, path)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BackpropException(Directory.Exists(path) ? $"{path}: cannot read the file: it is a folder, not a file." : $"{path}: cannot read the file: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        var values = new List<double>();
        string[]? header = null;
        var columns = 0;
        for (var n = 0; n < lines.Length; n++)
        {
            var line = n == 0 ? lines[n].TrimStart('\uFEFF') : lines[n];
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var cells = line.Split(',');
            if (columns == 0)
            {
                columns = cells.Length;
                if (columns != inputs && columns != inputs + 1)
                {
                    throw new BackpropException($"{path}:{n + 1}: has {columns} column{(columns == 1 ? "" : "s")}; the model takes {inputs} input{(inputs == 1 ? "" : "s")} (a last target column may follow).");
                }
                if (!cells.All(c => TryNumber(c, out _)))
                {
                    header = [.. cells.Select(c => c.Trim())];
                    continue;
                }
            }
            else if (cells.Length != columns)
            {
                throw new BackpropException($"{path}:{n + 1}: has {cells.Length} column{(cells.Length == 1 ? "" : "s")}; the first row has {columns}.");
            }
            for (var c = 0; c < inputs; c++)
            {
                if (!TryNumber(cells[c], out var v) || !double.IsFinite(v))
                {
                    throw new BackpropException($"{path}:{n + 1}:{c + 1}: {Quote(cells[c])} is not a finite number.");
                }
                values.Add(v);
            }
        }
        if (values.Count == 0)
        {
            throw new BackpropException($"{path}: has no rows to predict.");
        }
        return ([.. values], values.Count / inputs, header);
    }

    // A cell as a message shows it: trimmed, in quotes, on one line, and short.
    private static string Quote(string cell)
    {
        var text = cell.Trim();
        text = text.Length > 40 ? text[..39] + "…" : text;
        return $"'{string.Concat(text.Select(c => char.IsControl(c) ? '?' : c))}'";
    }

    private static bool TryNumber(string cell, out double value)
        => double.TryParse(cell.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}
