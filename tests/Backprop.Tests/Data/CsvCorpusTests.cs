using Backprop.Data;

namespace Backprop.Tests.Data;

/// <summary>
/// A corpus of malformed CSV files, one per kind of mistake, each read from a real file: the message
/// is exactly one line naming the file, the line and (for a cell) the column. The command-line tests
/// (Cli/MalformedFileTests) run the same files through <c>backprop</c>.
/// </summary>
public sealed class CsvCorpusTests
{
    /// <summary>A malformed file: its text, how it is read, the message after "PATH", and the command's extra options (null: not reachable from the command).</summary>
    internal sealed record Entry(string Text, CsvOptions Options, string Message, string? CliOptions = "");

    internal static readonly Dictionary<string, Entry> Corpus = new()
    {
        ["empty.csv"] = new("", new(), ": the file is empty."),
        ["blank-lines.csv"] = new("\n  \n\t\n", new(), ": the file is empty."),
        ["header-only.csv"] = new("dose,effect\n", new(), ": has a header but no data rows."),
        ["one-column.csv"] = new("1\n2\n", new(), ":1: needs at least two columns (inputs, then the target); found 1."),
        ["row-too-short.csv"] = new("x,y\n1,2\n3\n", new(), ":3: has 1 column; line 1 has 2."),
        ["row-too-long.csv"] = new("1,2\n3,4,5\n", new(), ":2: has 3 columns; line 1 has 2."),
        ["word.csv"] = new("x,y\n1,2\nabc,3\n", new(), ":3:1: 'abc' is not a number."),
        ["nan.csv"] = new("x,y\n1,2\nNaN,3\n", new(), ":3:1: 'NaN' is not a finite number."),
        ["infinity-target.csv"] = new("x,y\n1,Infinity\n", new(), ":2:2: 'Infinity' is not a finite number."),
        ["overflow.csv"] = new("x,y\n1e400,1\n", new(), ":2:1: '1e400' is not a finite number."),
        ["empty-input.csv"] = new("x,y\n,1\n", new(), ":2:1: the cell is empty; every input must be a number."),
        ["empty-target.csv"] = new("x,y\n1,\n", new(), ":2:2: the target cell is empty."),
        ["unclosed-quote.csv"] = new("x,y\n1,\"open\n", new(), ":2:2: a quoted cell opened at character 3 is not closed on this line."),
        ["text-after-quote.csv"] = new("x,y\n\"1\"2,3\n", new(), ":2:1: unexpected text after a quoted cell."),
        ["one-class.csv"] = new("x,y\n1,a\n2,a\n", new(), ": the target column 'y' has only one class ('a'); classification needs at least two."),
        ["long-cell.csv"] = new($"x,y\n{new string('a', 100)},1\n", new(), $":2:1: '{new string('a', 39)}…' is not a number."),
        ["control-character.csv"] = new("x,y\n1\u00072,3\n", new(), ":2:1: '1?2' is not a number."),
        ["nan-class.csv"] = new("x,y\n1,1\n2,NaN\n", new() { Classification = true }, ":3:2: 'NaN' is not a finite number.", "--loss cross-entropy --layers 1,4,2"),
        ["no-such-column.csv"] = new("x,y\n1,2\n", new() { Target = "z" }, ":1: no column is named 'z'; the header has 'x', 'y'.", "--target z"),
        ["column-out-of-range.csv"] = new("x,y\n1,2\n", new() { Target = "3" }, ":1: target column 3 does not exist: the file has columns 1 to 2.", "--target 3"),
        ["no-header-for-name.csv"] = new("1,2\n", new() { Target = "z", HasHeader = false }, ": the target column 'z' is given by name, but the file has no header row to find it in.", null),
        ["ambiguous-target.csv"] = new("x,x\n1,2\n", new() { Target = "x" }, ":1: ambiguous column 'x': columns 1 and 2 have that name; give the target column by number instead.", "--target x"),
        ["ambiguous-target-of-three.csv"] = new("y,a,y,y\n1,2,3,4\n", new() { Target = " y" }, ":1: ambiguous column 'y': columns 1, 3 and 4 have that name; give the target column by number instead.", "--target y"),
        ["nul-in-cell.csv"] = new("x,y\n0,0\0\n", new(), ":2:2: the cell holds a NUL character; is this a text file?"),
        ["nul-alone.csv"] = new("x,y\n\0,1\n", new(), ":2:1: the cell holds a NUL character; is this a text file?"),
        ["nul-in-quoted-cell.csv"] = new("x,y\n\"1\0\",2\n", new(), ":2:1: the cell holds a NUL character; is this a text file?"),
        ["nul-in-header.csv"] = new("x\0,y\n1,2\n", new(), ":1:1: the cell holds a NUL character; is this a text file?"),
        ["nul-in-label.csv"] = new("x,y\n1,a\n2,b\0\n", new(), ":3:2: the cell holds a NUL character; is this a text file?"),
        ["text-among-numbers.csv"] = new("x,y\n1,1\n2,a\n3,2\n", new(), ":3:2: 'a' is not a number."),
        ["nan-before-text.csv"] = new("x,y\n1,NaN\n2,a\n", new(), ":2:2: 'NaN' is not a finite number."),
        ["wide-header.csv"] = new(string.Join(",", Enumerable.Range(1, 15).Select(i => $"c{i}")) + "\n" + string.Join(",", Enumerable.Range(1, 15)) + "\n", new() { Target = "z" },
            ":1: no column is named 'z'; the header has 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10' and 5 more.", "--target z"),
    };

    public static TheoryData<string> Names => [.. Corpus.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_malformed_file_gives_one_line_naming_the_file_and_the_place(string name)
    {
        var entry = Corpus[name];
        var folder = Path.Combine(Path.GetTempPath(), "i8a-csv-corpus-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, name);
            File.WriteAllText(path, entry.Text);

            var e = Assert.Throws<BackpropException>(() => CsvDataset.Load(path, entry.Options));

            Assert.Equal(path + entry.Message, e.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_file_without_line_breaks_is_refused_before_it_is_read_whole()
    {
        var bytes = new byte[40 << 20];   // 40 MiB of NUL characters, as from /dev/zero

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<BackpropException>(() => CsvDataset.Parse(bytes, "zeros.csv"));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("zeros.csv:1: the line is longer than 16777216 characters; is this a CSV file?", e.Message);
        Assert.True(allocated < 96 << 20, $"{allocated} bytes allocated");
    }

    [Theory]
    [InlineData("x,y\r\n1,2\r\n3,4\r\n")]
    [InlineData("x,y\r1,2\r3,4")]
    [InlineData("x,y\n1,2\n\n3,4\n")]
    public void Lines_end_at_a_line_feed_a_carriage_return_or_both(string text)
    {
        var data = CsvDataset.Parse(text, "breaks.csv");

        Assert.Equal([1.0, 3], data.Inputs.ToArray());
        Assert.Equal([2.0, 4], data.Targets.ToArray());
        var blankLines = text.Contains("\n\n", StringComparison.Ordinal) ? 1 : 0;
        Assert.Equal($"breaks.csv:{4 + blankLines}:1: 'z' is not a number.",
            Assert.Throws<BackpropException>(() => CsvDataset.Parse(text.TrimEnd('\r', '\n') + text[3..4] + "z,5", "breaks.csv")).Message);
    }

    [Fact]
    public void A_carriage_return_and_line_feed_split_across_reads_are_one_break()
    {
        // The reader takes ReadBlock characters at a time: put the \r last in the first block, the \n first in the next.
        var first = "x,y\n" + new string(' ', CsvDataset.ReadBlock - 8) + "1,2\r";

        var e = Assert.Throws<BackpropException>(() => CsvDataset.Parse(first + "\n3,x\n", "split.csv"));

        Assert.Equal(CsvDataset.ReadBlock, first.Length);
        Assert.Equal("split.csv:3:2: 'x' is not a number.", e.Message);   // line 4 if \r and \n counted twice
    }

    [Fact]
    public void A_folder_is_named_as_one()
    {
        var folder = Path.Combine(Path.GetTempPath(), "i8a-csv-folder-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            Assert.Equal($"{folder}: cannot read the file: it is a folder, not a file.", Assert.Throws<BackpropException>(() => CsvDataset.Load(folder)).Message);
        }
        finally
        {
            Directory.Delete(folder);
        }
    }

    [Fact]
    public void Numeric_class_labels_minus_zero_and_zero_are_one_class()
    {
        var data = CsvDataset.Parse("x,y\n1,0\n2,-0\n3,1\n", "labels.csv", new CsvOptions { Classification = true });

        Assert.Equal(["0", "1"], data.ClassNames);
        Assert.Equal([0.0, 0, 1], data.Targets.ToArray());
    }
}
