namespace Backprop.Cli;

/// <summary>A plain text table: the first column left-aligned, the others right-aligned, separated by │.</summary>
internal static class TextTable
{
    /// <summary>The width of the widest line <see cref="Write"/> would write for these rows (the "… N more" line aside).</summary>
    public static int Width(IReadOnlyList<string> header, IReadOnlyList<IReadOnlyList<string>> rows, int maxRows = int.MaxValue)
    {
        var shown = rows.Take(maxRows).ToList();
        var widths = header.Select((h, c) => Math.Max(h.Length, shown.Count == 0 ? 0 : shown.Max(r => r[c].Length)));
        return 2 + widths.Sum() + (3 * (header.Count - 1));
    }

    /// <summary>Writes <paramref name="header"/>, a rule and up to <paramref name="maxRows"/> rows, then "… N more".</summary>
    public static void Write(TextWriter stdout, IReadOnlyList<string> header, IReadOnlyList<IReadOnlyList<string>> rows, int maxRows = int.MaxValue, string more = "rows")
    {
        var shown = rows.Take(maxRows).ToList();
        var widths = header.Select((h, c) => Math.Max(h.Length, shown.Count == 0 ? 0 : shown.Max(r => r[c].Length))).ToArray();
        string Line(IReadOnlyList<string> cells) => "  " + string.Join(" │ ", cells.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd();
        stdout.WriteLine(Line(header));
        stdout.WriteLine("  " + string.Join("─┼─", widths.Select(w => new string('─', w))));
        foreach (var row in shown)
        {
            stdout.WriteLine(Line(row));
        }
        if (rows.Count > maxRows)
        {
            stdout.WriteLine($"  … {rows.Count - maxRows} more {more}");
        }
    }
}
