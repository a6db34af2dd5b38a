using Backprop.Data;
using Backprop.Tensors;

namespace Backprop.Tests.Data;

public sealed class CsvDatasetTests
{
    private static BackpropException ParseError(string text)
        => Assert.Throws<BackpropException>(() => CsvDataset.Parse(text, "data/bad.csv"));

    private static void AssertOneLine(string message) => Assert.DoesNotContain('\n', message);

    [Fact]
    public void A_header_names_the_columns()
    {
        var data = CsvDataset.Parse("dosage, height ,efficacy\n0,1.5,0\n0.5,2,1\n1,-3e-1,0\n", "dir/drug.csv");

        Assert.Equal("drug.csv", data.Name);
        Assert.Equal(["dosage", "height"], data.InputNames);
        Assert.Equal(["efficacy"], data.TargetNames);
        Assert.Equal(3, data.Count);
        Assert.Equal([0, 1.5, 0.5, 2, 1, -0.3], data.Inputs.ToArray());
        Assert.Equal([0.0, 1, 0], data.Targets.ToArray());
    }

    [Fact]
    public void Without_a_header_columns_are_x1_x2_and_y()
    {
        var data = CsvDataset.Parse("1,2,3\n4,5,6", "plain.csv");

        Assert.Equal(["x1", "x2"], data.InputNames);
        Assert.Equal(["y"], data.TargetNames);
        Assert.Equal([1.0, 2, 4, 5], data.Inputs.ToArray());
        Assert.Equal([3.0, 6], data.Targets.ToArray());
    }

    [Fact]
    public void Blank_lines_CRLF_and_a_byte_order_mark_are_accepted()
    {
        var data = CsvDataset.Parse("\uFEFFx,y\r\n\r\n0, 0 \r\n   \r\n0.5,1\r\n1,0\r\n\r\n", "windows.csv");

        Assert.Equal(["x"], data.InputNames);
        Assert.Equal(["y"], data.TargetNames);
        Assert.Equal([0, 0.5, 1], data.Inputs.ToArray());
        Assert.Equal([0.0, 1, 0], data.Targets.ToArray());
    }

    [Fact]
    public void A_byte_order_mark_before_data_is_not_a_header()
    {
        var data = CsvDataset.Parse("\uFEFF1,2\n3,4\n", "bom.csv");

        Assert.Equal(["x1"], data.InputNames);
        Assert.Equal(2, data.Count);
    }

    [Fact]
    public void The_data_becomes_tensors()
    {
        var data = CsvDataset.Parse("a,b,t\n1,2,3\n4,5,6\n", "t.csv");

        var inputs = data.InputTensor<float>();
        var targets = data.TargetTensor<double>();

        Assert.Equal(new Shape(2, 2), inputs.Shape);
        Assert.Equal(5f, inputs[1, 1]);
        Assert.Equal(new Shape(2, 1), targets.Shape);
        Assert.Equal(6, targets[1, 0]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n  \n")]
    public void An_empty_file_is_named(string text)
    {
        var e = ParseError(text);

        Assert.Equal("data/bad.csv: the file is empty.", e.Message);
    }

    [Fact]
    public void A_header_without_data_is_named()
    {
        var e = ParseError("dosage,efficacy\n\n");

        Assert.Equal("data/bad.csv: has a header but no data rows.", e.Message);
    }

    [Fact]
    public void One_column_names_its_line()
    {
        var e = ParseError("\n5\n6\n");

        Assert.StartsWith("data/bad.csv:2: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("at least two columns", e.Message, StringComparison.Ordinal);
        AssertOneLine(e.Message);
    }

    [Fact]
    public void A_ragged_row_names_its_line_and_the_first_line()
    {
        var e = ParseError("x,y\n1,2\n\n3,4,5\n");

        Assert.Equal("data/bad.csv:4: has 3 columns; line 1 has 2.", e.Message);
    }

    [Fact]
    public void A_non_numeric_cell_names_its_line_and_column()
    {
        var e = ParseError("x1,x2,y\n1,2,3\n4,five,6\n");

        Assert.Equal("data/bad.csv:3:2: 'five' is not a number.", e.Message);
    }

    [Theory]
    [InlineData("x,y\n1,2\nNaN,3\n", "data/bad.csv:3:1: 'NaN' is not a finite number.")]
    [InlineData("1,Infinity\n", "data/bad.csv:1:2: 'Infinity' is not a finite number.")]
    [InlineData("x,y\r\n1,-Infinity\r\n", "data/bad.csv:2:2: '-Infinity' is not a finite number.")]
    [InlineData("x,y\n1,1e400\n", "data/bad.csv:2:2: '1e400' is not a finite number.")]
    public void NaN_and_infinity_are_rejected_with_their_place(string text, string message)
    {
        var e = ParseError(text);

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_decimal_comma_is_not_a_decimal_point()
    {
        // "0,5" is two cells: the row has one column too many.
        var e = ParseError("x,y\n0,5,1\n");

        Assert.Equal("data/bad.csv:2: has 3 columns; line 1 has 2.", e.Message);
    }

    [Fact]
    public void Load_reads_a_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"backprop-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, "dosage,efficacy\r\n0,0\r\n0.5,1\r\n1,0\r\n", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

            var data = CsvDataset.Load(path);

            Assert.Equal(Path.GetFileName(path), data.Name);
            Assert.Equal(["dosage"], data.InputNames);
            Assert.Equal([0.0, 1, 0], data.Targets.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_names_the_file_and_line_of_a_problem()
    {
        var path = Path.Combine(Path.GetTempPath(), $"backprop-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, "x,y\n1,2\n3,oops\n");

            var e = Assert.Throws<BackpropException>(() => CsvDataset.Load(path));

            Assert.Equal($"{path}:3:2: 'oops' is not a number.", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = Path.Combine(Path.GetTempPath(), $"backprop-missing-{Guid.NewGuid():N}", "data.csv");

        var e = Assert.Throws<BackpropException>(() => CsvDataset.Load(path));

        Assert.StartsWith($"{path}: cannot read the file", e.Message, StringComparison.Ordinal);
        AssertOneLine(e.Message);
    }

    // ---- target column, class labels, quoting ----

    [Fact]
    public void Text_labels_become_classes_in_ordinal_order()
    {
        var data = CsvDataset.Parse("5.1,3.5,setosa\n7.0,3.2,versicolor\n6.3,3.3,virginica\n4.9,3.0,setosa\n", "iris.csv");

        Assert.True(data.IsClassification);
        Assert.Equal(["setosa", "versicolor", "virginica"], data.ClassNames);
        Assert.Equal([0.0, 1, 2, 0], data.Targets.ToArray());
        Assert.Equal(["x1", "x2"], data.InputNames);
        Assert.Equal(["y"], data.TargetNames);
        Assert.Equal([5.1, 3.5, 7.0, 3.2, 6.3, 3.3, 4.9, 3.0], data.Inputs.ToArray());
    }

    [Fact]
    public void Integer_labels_are_classes_in_numeric_order_when_asked_for()
    {
        var text = "a,b,grade\n1,2,10\n3,4,2\n5,6,1\n7,8,2.0\n";

        var classes = CsvDataset.Parse(text, "g.csv", new CsvOptions { Classification = true });
        var values = CsvDataset.Parse(text, "g.csv");

        Assert.Equal(["1", "2", "10"], classes.ClassNames);
        Assert.Equal([2.0, 1, 0, 1], classes.Targets.ToArray());
        Assert.False(values.IsClassification);
        Assert.Equal([10.0, 2, 1, 2], values.Targets.ToArray());
    }

    [Fact]
    public void The_target_is_chosen_by_name_or_by_number()
    {
        var text = "label,p1,p2\n3,0.5,0.25\n1,1,0\n";

        var byName = CsvDataset.Parse(text, "t.csv", new CsvOptions { Target = "label", Classification = true });
        var byNumber = CsvDataset.Parse(text, "t.csv", new CsvOptions { Target = "1", Classification = true });

        foreach (var data in new[] { byName, byNumber })
        {
            Assert.Equal(["p1", "p2"], data.InputNames);
            Assert.Equal(["label"], data.TargetNames);
            Assert.Equal(["1", "3"], data.ClassNames);
            Assert.Equal([1.0, 0], data.Targets.ToArray());
            Assert.Equal([0.5, 0.25, 1, 0], data.Inputs.ToArray());
        }
    }

    [Fact]
    public void Without_a_header_a_first_target_column_is_named_y()
    {
        var data = CsvDataset.Parse("cat,1,2\ndog,3,4\n", "pets.csv", new CsvOptions { Target = "1" });

        Assert.Equal(["x1", "x2"], data.InputNames);
        Assert.Equal(["y"], data.TargetNames);
        Assert.Equal(["cat", "dog"], data.ClassNames);
    }

    [Fact]
    public void A_header_can_be_forced_on_or_off()
    {
        Assert.Equal(["1", "2"], CsvDataset.Parse("1,2,3\n4,5,6\n", "h.csv", new CsvOptions { HasHeader = true }).InputNames);
        var e = ParseError("a,b\n1,2\n", new CsvOptions { HasHeader = false });
        Assert.Equal("data/bad.csv:1:1: 'a' is not a number.", e.Message);
    }

    [Fact]
    public void Quoted_cells_may_hold_commas_and_quotes()
    {
        var data = CsvDataset.Parse("\"width, cm\",\"kind\"\n1.5,\"coat, long\"\n2,\"say \"\"hi\"\"\"\n", "q.csv");

        Assert.Equal(["width, cm"], data.InputNames);
        Assert.Equal(["coat, long", "say \"hi\""], data.ClassNames);
    }

    [Theory]
    [InlineData("x,y\n1,\"open\n", "data/bad.csv:2:2: a quoted cell opened at character 3 is not closed on this line.")]
    [InlineData("x,y\n1,\"a\"b\n", "data/bad.csv:2:2: unexpected text after a quoted cell.")]
    [InlineData("x,y\n,1\n", "data/bad.csv:2:1: the cell is empty; every input must be a number.")]
    [InlineData("x,y\n1,\n", "data/bad.csv:2:2: the target cell is empty.")]
    [InlineData("x,y\n1,a\n2,a\n", "data/bad.csv: the target column 'y' has only one class ('a'); classification needs at least two.")]
    public void Malformed_cells_are_named_with_line_and_column(string text, string message)
    {
        Assert.Equal(message, ParseError(text).Message);
    }

    [Fact]
    public void A_ragged_row_of_labelled_data_names_its_line()
    {
        Assert.Equal("data/bad.csv:3: has 2 columns; line 1 has 3.", ParseError("1,2,cat\n3,4,dog\n5,cat\n").Message);
    }

    [Fact]
    public void A_word_among_numeric_labels_is_a_mistake_not_a_class()
    {
        Assert.Equal("data/bad.csv:3:2: 'oops' is not a number.", ParseError("x,y\n1,2\n3,oops\n").Message);
        Assert.Equal(["2", "oops"], CsvDataset.Parse("x,y\n1,2\n3,oops\n", "t.csv", new CsvOptions { Classification = true }).ClassNames);
    }

    [Fact]
    public void Text_labels_cannot_be_read_as_values()
    {
        var e = ParseError("x,y\n1,cat\n", new CsvOptions { Classification = false });

        Assert.Equal("data/bad.csv:2:2: 'cat' is not a number.", e.Message);
    }

    [Theory]
    [InlineData("size", "data/bad.csv:1: no column is named 'size'; the header has 'x', 'y'.")]
    [InlineData("3", "data/bad.csv:1: target column 3 does not exist: the file has columns 1 to 2.")]
    [InlineData("0", "data/bad.csv:1: target column 0 does not exist: the file has columns 1 to 2.")]
    public void A_target_that_is_not_a_column_is_named(string target, string message)
    {
        Assert.Equal(message, ParseError("x,y\n1,2\n", new CsvOptions { Target = target }).Message);
    }

    [Fact]
    public void A_target_name_needs_a_header()
    {
        var e = ParseError("1,2\n3,4\n", new CsvOptions { Target = "y", HasHeader = false });

        Assert.Equal("data/bad.csv: the target column 'y' is given by name, but the file has no header row to find it in.", e.Message);
    }

    private static BackpropException ParseError(string text, CsvOptions options)
        => Assert.Throws<BackpropException>(() => CsvDataset.Parse(text, "data/bad.csv", options));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_large_file_is_parsed_straight_into_arrays_of_its_numbers_size(bool classes)
    {
        // 200,000 rows of 3 inputs and a target: 6.4 MB as numbers. The text is made before measuring.
        const int rows = 200_000;
        var text = new System.Text.StringBuilder("a,b,c,label\n");
        var rng = new Rng(3);
        for (var r = 0; r < rows; r++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{rng.NextNormal():R},{rng.NextNormal():R},{r % 7},{(classes ? (r % 3 == 0 ? "cat" : "dog") : (r * 0.5).ToString(System.Globalization.CultureInfo.InvariantCulture))}\n");
        }
        var bytes = System.Text.Encoding.UTF8.GetBytes(text.ToString());
        text.Clear();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var data = CsvDataset.Parse(bytes, "large.csv");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(rows, data.Count);
        Assert.Equal(classes, data.IsClassification);
        // The numbers themselves (inputs and targets as doubles), plus the reader's fixed buffers:
        // no text per row, no growing lists copied at the end.
        var numbers = rows * 4L * sizeof(double);
        Assert.True(allocated < numbers + (1 << 20), $"{allocated} bytes allocated to read {numbers} bytes of numbers");
    }
}
