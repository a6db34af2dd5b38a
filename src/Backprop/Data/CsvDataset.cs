using System.Globalization;

namespace Backprop.Data;

/// <summary>How <see cref="CsvDataset"/> reads a file. The defaults read most files as intended.</summary>
public sealed record CsvOptions
{
    /// <summary>
    /// Whether the first row names the columns; null (the default) to detect it: the first row is a
    /// header when one of its input cells is not a number (or when <see cref="Target"/> is a name).
    /// </summary>
    public bool? HasHeader { get; init; }

    /// <summary>
    /// The target column: a name from the header, or a column number counting from 1; null (the
    /// default) for the last column. Every other column is an input.
    /// </summary>
    public string? Target { get; init; }

    /// <summary>
    /// Whether the target holds class labels: null (the default) for classes when every label is text
    /// and values otherwise; true for classes even when the labels are numbers; false for values only.
    /// </summary>
    public bool? Classification { get; init; }
}

/// <summary>
/// Reads a CSV file: numeric input columns and one target column (the last, or one chosen by name or
/// number) holding values (regression) or class labels, as text or integers (classification).
/// </summary>
/// <remarks>
/// Fields are separated by commas and may be quoted ("a, b" with "" for a quote); surrounding spaces
/// are ignored; blank lines are skipped; numbers use the invariant culture (a dot for decimals); NaN
/// and infinity are rejected. Class labels become class indices: integers in numeric order, text in
/// ordinal order (so labels 1, 2, 3 are classes 0, 1, 2 named "1", "2", "3"). Without a header the
/// columns are named x1, x2, …, y. Every problem is one line naming the file, line and column.
/// </remarks>
public static class CsvDataset
{
    private const int MaxListed = 10;
    private const int MaxQuoted = 40;
    private const int MaxLineLength = 1 << 24;
    internal const int ReadBlock = 4096;

    /// <summary>Loads <paramref name="path"/>.</summary>
    /// <exception cref="BackpropException">The file is missing, unreadable or malformed.</exception>
    public static Dataset Load(string path, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
            return Read(reader, path, options ?? new CsvOptions());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw FileErrors.CannotRead(path, "file", e);
        }
    }

    /// <summary>Parses CSV text; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="BackpropException">The text is malformed.</exception>
    public static Dataset Parse(string text, string source, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var reader = new StringReader(text);
        return Read(reader, source, options ?? new CsvOptions());
    }

    /// <summary>Parses a whole file's bytes as <see cref="Load"/> reads the file; <paramref name="source"/> names it in messages.</summary>
    internal static Dataset Parse(byte[] bytes, string source, CsvOptions? options = null)
    {
        using var reader = new StreamReader(new MemoryStream(bytes, writable: false), detectEncodingFromByteOrderMarks: true);
        return Read(reader, source, options ?? new CsvOptions());
    }

    private static Dataset Read(TextReader reader, string source, CsvOptions options)
    {
        string[]? header = null;
        var columns = 0;
        var target = -1;
        var firstLine = 0;
        var inputs = new List<double>();
        var labels = new List<string>();
        var labelLines = new List<int>();
        var cells = new List<string>();
        var n = 0;
        foreach (var text in Lines(reader, source))
        {
            var line = text;
            n++;
            if (n == 1 && line.StartsWith('\uFEFF'))
            {
                line = line[1..];
            }
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            Split(line, cells, source, n);
            if (columns == 0)
            {
                columns = cells.Count;
                firstLine = n;
                if (columns < 2)
                {
                    throw new BackpropException($"{source}:{n}: needs at least two columns (inputs, then the target); found {columns}.");
                }
                target = TargetByNumber(options.Target, columns, source, n);
                var isHeader = options.HasHeader ?? (target < 0 || cells.Where((_, c) => c != target).Any(c => !TryNumber(c, out _)));
                if (isHeader)
                {
                    header = [.. cells];
                    if (target < 0)
                    {
                        target = TargetByName(options.Target, header, source, n);
                    }
                    continue;
                }
                if (target < 0)
                {
                    throw new BackpropException($"{source}: the target column {Quote(options.Target!)} is given by name, but the file has no header row to find it in.");
                }
            }
            else if (cells.Count != columns)
            {
                throw new BackpropException($"{source}:{n}: has {cells.Count} column{(cells.Count == 1 ? "" : "s")}; line {firstLine} has {columns}.");
            }
            for (var c = 0; c < cells.Count; c++)
            {
                if (c == target)
                {
                    if (cells[c].Length == 0)
                    {
                        throw new BackpropException($"{source}:{n}:{c + 1}: the target cell is empty.");
                    }
                    labels.Add(cells[c]);
                    labelLines.Add(n);
                }
                else
                {
                    inputs.Add(Number(cells[c], source, n, c));
                }
            }
        }
        if (columns == 0)
        {
            throw new BackpropException($"{source}: the file is empty.");
        }
        if (labels.Count == 0)
        {
            throw new BackpropException($"{source}: has a header but no data rows.");
        }
        var names = header;
        if (names is null)
        {
            // Unnamed columns: x1, x2, … for the inputs in order, y for the target wherever it is.
            names = new string[columns];
            for (int c = 0, x = 1; c < columns; c++)
            {
                names[c] = c == target ? "y" : $"x{x++}";
            }
        }
        var inputNames = names.Where((_, c) => c != target).ToArray();
        var targetName = names[target];
        var name = Path.GetFileName(source);
        var anyText = labels.Any(l => !TryNumber(l, out _));
        // Detected classes need every label to be text: a word among numbers is more likely a mistake.
        var allText = anyText && labels.All(l => !TryNumber(l, out _));
        if (options.Classification == false || (options.Classification is null && !allText))
        {
            var values = new double[labels.Count];
            for (var r = 0; r < labels.Count; r++)
            {
                values[r] = Number(labels[r], source, labelLines[r], target);
            }
            return new Dataset(name, [.. inputs], values, inputNames, [targetName]);
        }
        if (!anyText)
        {
            for (var r = 0; r < labels.Count; r++)
            {
                _ = Number(labels[r], source, labelLines[r], target);
            }
        }
        var classes = ClassesOf(labels, anyText);
        if (classes.Count < 2)
        {
            throw new BackpropException($"{source}: the target column '{targetName}' has only one class ({Quote(classes[0])}); classification needs at least two.");
        }
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        var targets = labels.Select(l => (double)index[Canonical(l, anyText)]).ToArray();
        return new Dataset(name, new DoubleFeatures([.. inputs], inputNames.Length), targets, inputNames, [targetName], classes);
    }

    /// <summary>
    /// The lines of <paramref name="reader"/> as <see cref="TextReader.ReadLine"/> splits them (at \n,
    /// \r\n or \r), but never longer than the CSV reader's line limit: other readers of CSV-like
    /// input (<c>predict --data</c>) split lines exactly as <see cref="Load"/> does.
    /// </summary>
    /// <exception cref="BackpropException">A line is longer than the limit (named with <paramref name="source"/>).</exception>
    // NOTE: a file with no line breaks (a binary file, /dev/zero) would otherwise be read into one huge string.
    public static IEnumerable<string> Lines(TextReader reader, string source)
    {
        var buffer = new char[ReadBlock];
        var line = new System.Text.StringBuilder();
        var n = 1;
        var afterCarriageReturn = false;
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            var start = 0;
            if (afterCarriageReturn && buffer[0] == '\n')
            {
                start = 1;
            }
            afterCarriageReturn = false;
            while (start < read)
            {
                var found = buffer.AsSpan(start, read - start).IndexOfAny('\r', '\n');
                var end = found < 0 ? -1 : start + found;
                var length = (end < 0 ? read : end) - start;
                if (line.Length + length > MaxLineLength)
                {
                    throw new BackpropException($"{source}:{n}: the line is longer than {MaxLineLength} characters; is this a CSV file?");
                }
                line.Append(buffer, start, length);
                if (end < 0)
                {
                    break;
                }
                yield return line.ToString();
                line.Clear();
                n++;
                start = end + 1;
                if (buffer[end] == '\r')
                {
                    if (start == read)
                    {
                        afterCarriageReturn = true;
                    }
                    else if (buffer[start] == '\n')
                    {
                        start++;
                    }
                }
            }
        }
        if (line.Length > 0)
        {
            yield return line.ToString();
        }
    }

    // Numeric labels are one class per value ("1" and "1.0" are the same class), in numeric order.
    private static List<string> ClassesOf(List<string> labels, bool anyText)
        => anyText
            ? [.. labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]
            : [.. labels.Select(LabelValue).Distinct().Order()
                .Select(v => v.ToString(CultureInfo.InvariantCulture))];

    private static string Canonical(string label, bool anyText)
        => anyText ? label : LabelValue(label).ToString(CultureInfo.InvariantCulture);

    // NOTE: -0 and 0 are one class; without this, "-0" would name a class that "0" then misses.
    private static double LabelValue(string label)
        => double.Parse(label, NumberStyles.Float, CultureInfo.InvariantCulture) is var v && v == 0 ? 0 : v;

    private static int TargetByNumber(string? target, int columns, string source, int line)
    {
        if (target is null)
        {
            return columns - 1;
        }
        if (!int.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return -1;
        }
        if (number < 1 || number > columns)
        {
            throw new BackpropException($"{source}:{line}: target column {number} does not exist: the file has columns 1 to {columns}.");
        }
        return number - 1;
    }

    private static int TargetByName(string? target, string[] header, string source, int line)
    {
        var index = Array.IndexOf(header, target?.Trim());
        return index >= 0
            ? index
            : throw new BackpropException($"{source}:{line}: no column is named {Quote(target ?? "")}; the header has {string.Join(", ", header.Take(MaxListed).Select(Quote))}{(header.Length > MaxListed ? $" and {header.Length - MaxListed} more" : "")}.");
    }

    private static double Number(string cell, string source, int line, int column)
    {
        if (cell.Length == 0)
        {
            throw new BackpropException($"{source}:{line}:{column + 1}: the cell is empty; every input must be a number.");
        }
        if (!TryNumber(cell, out var v))
        {
            throw new BackpropException($"{source}:{line}:{column + 1}: {Quote(cell)} is not a number.");
        }
        if (!double.IsFinite(v))
        {
            throw new BackpropException($"{source}:{line}:{column + 1}: {Quote(cell)} is not a finite number.");
        }
        return v;
    }

    // Splits one line into trimmed cells; a cell may be quoted ("a, b", with "" for a quote).
    private static void Split(string line, List<string> cells, string source, int lineNumber)
    {
        cells.Clear();
        var i = 0;
        while (true)
        {
            while (i < line.Length && line[i] is ' ' or '\t')
            {
                i++;
            }
            string cell;
            if (i < line.Length && line[i] == '"')
            {
                var text = new System.Text.StringBuilder();
                var start = i + 1;
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new BackpropException($"{source}:{lineNumber}:{cells.Count + 1}: a quoted cell opened at character {start} is not closed on this line.");
                    }
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            text.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    text.Append(line[i++]);
                }
                while (i < line.Length && line[i] is ' ' or '\t' or '\r')
                {
                    i++;
                }
                if (i < line.Length && line[i] != ',')
                {
                    throw new BackpropException($"{source}:{lineNumber}:{cells.Count + 1}: unexpected text after a quoted cell.");
                }
                cell = text.ToString();
            }
            else
            {
                var comma = line.IndexOf(',', i);
                var end = comma < 0 ? line.Length : comma;
                cell = line[i..end].Trim();
                i = end;
            }
            cells.Add(cell);
            if (i >= line.Length)
            {
                return;
            }
            i++; // past the comma
        }
    }

    // A cell as a message shows it: in quotes, on one line, and short.
    internal static string Quote(string cell)
    {
        var text = cell.Length > MaxQuoted ? cell[..(MaxQuoted - 1)] + "…" : cell;
        return $"'{string.Concat(text.Select(c => char.IsControl(c) ? '?' : c))}'";
    }

    // NaN and infinity parse here so that they get their own message.
    private static bool TryNumber(string cell, out double value)
        => double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}
