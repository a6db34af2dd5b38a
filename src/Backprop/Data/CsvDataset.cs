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
    /// <remarks>
    /// A regular file is read twice: once to count its rows, then to parse every cell straight into
    /// arrays of the final size — no text and nothing per row is kept, so memory is the numbers' own.
    /// </remarks>
    public static Dataset Load(string path, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            if (Serialization.FileSystemEntry.Kind(path) == Serialization.EntryKind.Regular)
            {
                return Read(() => new StreamReader(path, detectEncodingFromByteOrderMarks: true), twoPasses: true, path, options ?? new CsvOptions());
            }
            // A pipe or device can be read once only.
            using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
            return Read(() => reader, twoPasses: false, path, options ?? new CsvOptions());
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
        return Read(() => new StringReader(text), twoPasses: true, source, options ?? new CsvOptions());
    }

    /// <summary>Parses a whole file's bytes as <see cref="Load"/> reads the file; <paramref name="source"/> names it in messages.</summary>
    internal static Dataset Parse(byte[] bytes, string source, CsvOptions? options = null)
        => Read(() => new StreamReader(new MemoryStream(bytes, writable: false), detectEncodingFromByteOrderMarks: true), twoPasses: true, source, options ?? new CsvOptions());

    private static Dataset Read(Func<TextReader> open, bool twoPasses, string source, CsvOptions options)
    {
        // Pass 1 (when the text can be read again): the number of rows, so that the arrays are made once, at their final size.
        int? lineCount = null;
        if (twoPasses)
        {
            using var counting = open();
            lineCount = CountLines(counting, source);
        }
        using var reader = open();
        var lines = new LineReader(reader, source);
        var cells = new Cells();
        string[]? header = null;
        var columns = 0;
        var target = -1;
        var firstLine = 0;
        Column<double>? inputs = null;
        Column<double>? values = null;
        var labels = new Labels(options.Classification, source);
        while (lines.Next())
        {
            var n = lines.Number;
            var line = lines.Current;
            if (n == 1 && line.StartsWith('\uFEFF'))
            {
                line = line[1..];
            }
            if (line.IsWhiteSpace())
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
                var isHeader = options.HasHeader ?? (target < 0 || Enumerable.Range(0, columns).Any(c => c != target && !TryNumber(cells[c], out _)));
                var rows = lineCount is { } count ? count - (isHeader ? 1 : 0) : (int?)null;
                inputs = new Column<double>(rows * (columns - 1));
                values = new Column<double>(rows);
                if (isHeader)
                {
                    header = [.. Enumerable.Range(0, columns).Select(c => cells.Text(c))];
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
            for (var c = 0; c < columns; c++)
            {
                if (c == target)
                {
                    labels.Add(cells[c], values!, n, c);
                }
                else
                {
                    inputs!.Add(Number(cells[c], source, n, c));
                }
            }
        }
        if (columns == 0)
        {
            throw new BackpropException($"{source}: the file is empty.");
        }
        if (values!.Count == 0)
        {
            throw new BackpropException($"{source}: has a header but no data rows.");
        }
        if (inputs!.Capacity is { } expected && inputs.Count != expected)
        {
            throw new BackpropException($"{source}: the file changed while it was read; read it again when it is complete.");
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
        var targets = values.ToArray();
        if (labels.ClassNames(targets, targetName) is not { } classes)
        {
            return new Dataset(name, inputs.ToArray(), targets, inputNames, [targetName]);
        }
        return new Dataset(name, new DoubleFeatures(inputs.ToArray(), inputNames.Length), targets, inputNames, [targetName], classes);
    }

    // The lines Read will see that are not blank (an upper bound of the rows: the header is among them).
    private static int CountLines(TextReader reader, string source)
    {
        var lines = new LineReader(reader, source);
        var count = 0;
        while (lines.Next())
        {
            var line = lines.Current;
            if (lines.Number == 1 && line.StartsWith('\uFEFF'))
            {
                line = line[1..];
            }
            if (!line.IsWhiteSpace())
            {
                count++;
            }
        }
        return count;
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
        var lines = new LineReader(reader, source);
        while (lines.Next())
        {
            yield return lines.Current.ToString();
        }
    }

    /// <summary>
    /// Reads lines as TextReader.ReadLine splits them (at \n, \r\n or \r) into one reused buffer, never
    /// longer than MaxLineLength. NOTE: a file with no line breaks (a binary file, /dev/zero) would
    /// otherwise be read into one huge string.
    /// </summary>
    private sealed class LineReader(TextReader reader, string source)
    {
        private readonly char[] block = new char[ReadBlock];
        private char[] line = new char[256];
        private int length;
        private int position;
        private int filled;
        private bool afterCarriageReturn;

        /// <summary>The line read last, from 1.</summary>
        public int Number { get; private set; }

        /// <summary>The line read last, without its line break.</summary>
        public ReadOnlySpan<char> Current => line.AsSpan(0, length);

        public bool Next()
        {
            length = 0;
            while (true)
            {
                if (position == filled)
                {
                    filled = reader.Read(block, 0, block.Length);
                    position = 0;
                    if (filled <= 0)
                    {
                        filled = 0;
                        if (length == 0)
                        {
                            return false;
                        }
                        Number++;
                        return true;
                    }
                    if (afterCarriageReturn)
                    {
                        afterCarriageReturn = false;
                        if (block[0] == '\n')
                        {
                            position = 1;
                            continue;
                        }
                    }
                }
                var rest = block.AsSpan(position, filled - position);
                var found = rest.IndexOfAny('\r', '\n');
                Append(found < 0 ? rest : rest[..found]);
                if (found < 0)
                {
                    position = filled;
                    continue;
                }
                position += found + 1;
                if (rest[found] == '\r')
                {
                    if (position == filled)
                    {
                        afterCarriageReturn = true;
                    }
                    else if (block[position] == '\n')
                    {
                        position++;
                    }
                }
                Number++;
                return true;
            }
        }

        private void Append(ReadOnlySpan<char> text)
        {
            if (length + text.Length > MaxLineLength)
            {
                throw new BackpropException($"{source}:{Number + 1}: the line is longer than {MaxLineLength} characters; is this a CSV file?");
            }
            if (length + text.Length > line.Length)
            {
                Array.Resize(ref line, Math.Min(MaxLineLength, Math.Max(line.Length * 2, length + text.Length)));
            }
            text.CopyTo(line.AsSpan(length));
            length += text.Length;
        }
    }

    /// <summary>The cells of one line, unquoted and trimmed, in one reused buffer.</summary>
    private sealed class Cells
    {
        private char[] text = new char[256];
        private int length;
        private int[] starts = new int[16];
        private int[] lengths = new int[16];

        public int Count { get; private set; }

        public ReadOnlySpan<char> this[int cell] => text.AsSpan(starts[cell], lengths[cell]);

        public string Text(int cell) => this[cell].ToString();

        public void Clear() => (Count, length) = (0, 0);

        public void Begin()
        {
            if (Count == starts.Length)
            {
                Array.Resize(ref starts, Count * 2);
                Array.Resize(ref lengths, Count * 2);
            }
            starts[Count] = length;
            lengths[Count] = 0;
            Count++;
        }

        public void Append(ReadOnlySpan<char> chars)
        {
            if (length + chars.Length > text.Length)
            {
                Array.Resize(ref text, Math.Max(text.Length * 2, length + chars.Length));
            }
            chars.CopyTo(text.AsSpan(length));
            length += chars.Length;
            lengths[Count - 1] += chars.Length;
        }
    }

    /// <summary>Values appended one by one into an array made at its final size when the count is known, grown otherwise.</summary>
    private sealed class Column<T>(int? capacity)
    {
        private T[] values = new T[capacity ?? 1024];

        public int? Capacity => capacity;

        public int Count { get; private set; }

        public void Add(T value)
        {
            if (Count == values.Length)
            {
                if (capacity is not null)
                {
                    throw new InvalidOperationException("More rows than counted.");
                }
                Array.Resize(ref values, values.Length * 2);
            }
            values[Count++] = value;
        }

        public T this[int index] => values[index];

        public T[] ToArray()
        {
            if (Count != values.Length)
            {
                Array.Resize(ref values, Count);
            }
            return values;
        }
    }

    /// <summary>
    /// The target cells as they stream by: numbers go straight into the targets; text labels are kept
    /// once each (a class per distinct label), with each row's label as a number.
    /// </summary>
    private sealed class Labels(bool? classification, string source)
    {
        private readonly Dictionary<string, int> texts = new(StringComparer.Ordinal);
        private readonly List<string> textNames = [];
        private Column<int>? textIds;
        private (int Line, int Column, string Cell, bool Text)? firstBad;
        private int numberCount;
        private int textCount;

        public void Add(ReadOnlySpan<char> cell, Column<double> values, int line, int column)
        {
            if (cell.Length == 0)
            {
                throw new BackpropException($"{source}:{line}:{column + 1}: the target cell is empty.");
            }
            var isNumber = TryNumber(cell, out var value);
            (numberCount, textCount) = isNumber ? (numberCount + 1, textCount) : (numberCount, textCount + 1);
            if (!isNumber || !double.IsFinite(value))
            {
                // The first label Number would refuse: where a run that needs numbers reports its error.
                firstBad ??= (line, column, cell.ToString(), !isNumber);
            }
            values.Add(isNumber && double.IsFinite(value) ? value : double.NaN);
            // Text classes: every label of an explicit classification, and the text labels otherwise.
            if (!isNumber || classification == true)
            {
                if (textIds is null)
                {
                    textIds = new Column<int>(values.Capacity);
                    for (var r = 0; r < values.Count - 1; r++)
                    {
                        textIds.Add(-1);
                    }
                }
                textIds.Add(Id(cell));
            }
            else
            {
                textIds?.Add(-1);
            }
            // Numbers and text mixed, not as classes: a mistake, reported at once (nothing more is kept).
            if (classification != true && textCount > 0 && (numberCount > 0 || classification == false))
            {
                throw NotNumbers();
            }
        }

        private int Id(ReadOnlySpan<char> cell)
        {
            var lookup = texts.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.TryGetValue(cell, out var id))
            {
                id = textNames.Count;
                var label = cell.ToString();
                texts[label] = id;
                textNames.Add(label);
            }
            return id;
        }

        // The first label that is not a finite number, as Number would report it.
        private BackpropException NotNumbers()
        {
            var (line, column, cell, text) = firstBad!.Value;
            return new BackpropException(text
                ? $"{source}:{line}:{column + 1}: {Quote(cell)} is not a number."
                : $"{source}:{line}:{column + 1}: {Quote(cell)} is not a finite number.");
        }

        /// <summary>
        /// The class names when the labels are classes (and <paramref name="targets"/> turned into class
        /// indices); null for values (regression), every one of them then a finite number.
        /// </summary>
        public List<string>? ClassNames(double[] targets, string targetName)
        {
            var allText = textCount > 0 && numberCount == 0;
            // Detected classes need every label to be text: a word among numbers is more likely a mistake.
            if (classification == false || (classification is null && !allText))
            {
                if (firstBad is not null)
                {
                    throw NotNumbers();
                }
                return null;
            }
            List<string> classes;
            if (textCount == 0)
            {
                // Numeric labels are one class per value ("1" and "1.0" are the same class), in numeric order.
                if (firstBad is not null)
                {
                    throw NotNumbers();
                }
                // NOTE: -0 and 0 are one class; without this, "-0" would name a class that "0" then misses.
                var distinct = targets.Select(v => v == 0 ? 0 : v).Distinct().Order().ToArray();
                classes = [.. distinct.Select(v => v.ToString(CultureInfo.InvariantCulture))];
                for (var r = 0; r < targets.Length; r++)
                {
                    targets[r] = Array.BinarySearch(distinct, targets[r] == 0 ? 0 : targets[r]);
                }
            }
            else
            {
                // Text labels are classes in ordinal order.
                var order = Enumerable.Range(0, textNames.Count).OrderBy(i => textNames[i], StringComparer.Ordinal).ToArray();
                var rank = new int[order.Length];
                for (var k = 0; k < order.Length; k++)
                {
                    rank[order[k]] = k;
                }
                classes = [.. order.Select(i => textNames[i])];
                for (var r = 0; r < targets.Length; r++)
                {
                    targets[r] = rank[textIds![r]];
                }
            }
            if (classes.Count < 2)
            {
                throw new BackpropException($"{source}: the target column '{targetName}' has only one class ({Quote(classes[0])}); classification needs at least two.");
            }
            return classes;
        }
    }

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
        var name = target?.Trim() ?? "";
        var matches = Enumerable.Range(0, header.Length).Where(c => header[c] == name).ToArray();
        return matches switch
        {
            [var index] => index,
            [] => throw new BackpropException($"{source}:{line}: no column is named {Quote(name)}; the header has {string.Join(", ", header.Take(MaxListed).Select(Quote))}{(header.Length > MaxListed ? $" and {header.Length - MaxListed} more" : "")}."),
            _ => throw new BackpropException($"{source}:{line}: ambiguous column {Quote(name)}: columns {string.Join(", ", matches[..^1].Select(c => c + 1))} and {matches[^1] + 1} have that name; give the target column by number instead."),
        };
    }

    private static double Number(ReadOnlySpan<char> cell, string source, int line, int column)
    {
        if (cell.Length == 0)
        {
            throw new BackpropException($"{source}:{line}:{column + 1}: the cell is empty; every input must be a number.");
        }
        if (!TryNumber(cell, out var v))
        {
            throw new BackpropException($"{source}:{line}:{column + 1}: {Quote(cell.ToString())} is not a number.");
        }
        if (!double.IsFinite(v))
        {
            throw new BackpropException($"{source}:{line}:{column + 1}: {Quote(cell.ToString())} is not a finite number.");
        }
        return v;
    }

    // Splits one line into trimmed cells; a cell may be quoted ("a, b", with "" for a quote).
    private static void Split(ReadOnlySpan<char> line, Cells cells, string source, int lineNumber)
    {
        cells.Clear();
        var i = 0;
        while (true)
        {
            while (i < line.Length && line[i] is ' ' or '\t')
            {
                i++;
            }
            cells.Begin();
            if (i < line.Length && line[i] == '"')
            {
                var start = i + 1;
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new BackpropException($"{source}:{lineNumber}:{cells.Count}: a quoted cell opened at character {start} is not closed on this line.");
                    }
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            cells.Append("\"");
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    var run = line[i..].IndexOf('"') is var q and >= 0 ? q : line.Length - i;
                    cells.Append(line.Slice(i, run));
                    i += run;
                }
                while (i < line.Length && line[i] is ' ' or '\t' or '\r')
                {
                    i++;
                }
                if (i < line.Length && line[i] != ',')
                {
                    throw new BackpropException($"{source}:{lineNumber}:{cells.Count}: unexpected text after a quoted cell.");
                }
            }
            else
            {
                var end = line[i..].IndexOf(',') is var comma and >= 0 ? i + comma : line.Length;
                cells.Append(line[i..end].Trim());
                i = end;
            }
            // NOTE: .NET's number parser ignores trailing NUL characters ("0\0" would read as 0): a NUL is never data.
            if (cells[cells.Count - 1].Contains('\0'))
            {
                throw new BackpropException($"{source}:{lineNumber}:{cells.Count}: the cell holds a NUL character; is this a text file?");
            }
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
    private static bool TryNumber(ReadOnlySpan<char> cell, out double value)
        => double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}
