using System.Globalization;

namespace Backprop.Data;

/// <summary>
/// Reads a numeric CSV file: input columns, then one target column. A first row with any
/// non-numeric cell is taken as the header; otherwise columns are named x1, x2, …, y.
/// </summary>
/// <remarks>
/// Fields are separated by commas; surrounding spaces are ignored; blank lines are skipped;
/// numbers use the invariant culture (a dot for decimals). NaN and infinity are rejected.
/// Every problem is reported as one line naming the file, line and column.
/// </remarks>
public static class CsvDataset
{
    /// <summary>Loads <paramref name="path"/>.</summary>
    /// <exception cref="BackpropException">The file is missing, unreadable or malformed.</exception>
    public static Dataset Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BackpropException($"{path}: cannot read the file: {e.Message}", e);
        }
        return Parse(text, path);
    }

    /// <summary>Parses CSV text; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="BackpropException">The text is malformed.</exception>
    public static Dataset Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        string[]? header = null;
        var columns = 0;
        var values = new List<double>();
        var firstLine = 0;
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].TrimEnd('\r');
            if (n == 0 && line.StartsWith('\uFEFF'))
            {
                line = line[1..];
            }
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var cells = line.Split(',');
            if (columns == 0)
            {
                columns = cells.Length;
                firstLine = n + 1;
                if (columns < 2)
                {
                    throw new BackpropException($"{source}:{n + 1}: needs at least two columns (inputs, then the target); found {columns}.");
                }
                if (!cells.All(c => TryNumber(c, out _)))
                {
                    header = [.. cells.Select(c => c.Trim())];
                    continue;
                }
            }
            else if (cells.Length != columns)
            {
                throw new BackpropException($"{source}:{n + 1}: has {cells.Length} column{(cells.Length == 1 ? "" : "s")}; line {firstLine} has {columns}.");
            }
            for (var c = 0; c < cells.Length; c++)
            {
                if (!TryNumber(cells[c], out var v))
                {
                    throw new BackpropException($"{source}:{n + 1}:{c + 1}: '{cells[c].Trim()}' is not a number.");
                }
                if (!double.IsFinite(v))
                {
                    throw new BackpropException($"{source}:{n + 1}:{c + 1}: '{cells[c].Trim()}' is not a finite number.");
                }
                values.Add(v);
            }
        }
        if (columns == 0)
        {
            throw new BackpropException($"{source}: the file is empty.");
        }
        if (values.Count == 0)
        {
            throw new BackpropException($"{source}: has a header but no data rows.");
        }
        var rows = values.Count / columns;
        var inputs = new double[rows * (columns - 1)];
        var targets = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns - 1; c++)
            {
                inputs[(r * (columns - 1)) + c] = values[(r * columns) + c];
            }
            targets[r] = values[(r * columns) + columns - 1];
        }
        var names = header ?? [.. Enumerable.Range(1, columns - 1).Select(i => $"x{i}"), "y"];
        return new Dataset(Path.GetFileName(source), inputs, targets, names[..^1], [names[^1]]);
    }

    // NaN and infinity parse here so that they get their own message.
    private static bool TryNumber(string cell, out double value)
        => double.TryParse(cell.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}
