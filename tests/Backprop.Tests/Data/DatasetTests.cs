using Backprop.Data;
using Backprop.Tensors;

namespace Backprop.Tests.Data;

public sealed class DatasetTests
{
    [Fact]
    public void Dosage_is_the_lessons_three_points()
    {
        var dosage = Datasets.Dosage;

        Assert.Equal("dosage", dosage.Name);
        Assert.Equal(3, dosage.Count);
        Assert.Equal(1, dosage.InputCount);
        Assert.Equal(1, dosage.TargetCount);
        Assert.Equal(["Dosage"], dosage.InputNames);
        Assert.Equal(["Efficacy"], dosage.TargetNames);
        Assert.Equal([0.0, 0.5, 1.0], dosage.Inputs.ToArray());
        Assert.Equal([0.0, 1.0, 0.0], dosage.Targets.ToArray());
    }

    [Fact]
    public void Dosage_as_tensors_is_a_column_of_three()
    {
        var x = Datasets.Dosage.InputTensor<double>();
        var y = Datasets.Dosage.TargetTensor<float>();

        Assert.Equal(new Shape(3, 1), x.Shape);
        Assert.Equal([0.0, 0.5, 1.0], x.ToDoubleArray());
        Assert.Equal(new Shape(3, 1), y.Shape);
        Assert.Equal([0.0, 1.0, 0.0], y.ToDoubleArray());
    }

    [Fact]
    public void Tensors_are_copies()
    {
        var x = Datasets.Dosage.InputTensor<double>();
        x[1] = 99;

        Assert.Equal(0.5, Datasets.Dosage.Inputs[1]);
        Assert.Equal(0.5, Datasets.Dosage.InputTensor<double>()[1]);
    }

    [Fact]
    public void Several_targets_per_row_are_kept_row_major()
    {
        var data = new Dataset("two", [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], ["a", "b"], ["s", "t"]);

        Assert.Equal(2, data.Count);
        var targets = data.TargetTensor<double>();
        Assert.Equal(new Shape(2, 2), targets.Shape);
        Assert.Equal(7, targets[1, 0]);
    }

    [Fact]
    public void Inputs_and_targets_must_have_the_same_rows()
    {
        Assert.Throws<ArgumentException>(() => new Dataset("bad", [1.0, 2.0, 3.0], [1.0, 2.0], ["x"], ["y"]));
        Assert.Throws<ArgumentException>(() => new Dataset("bad", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], ["a", "b"], ["y"]));
        Assert.Throws<ArgumentException>(() => new Dataset("bad", [], [], ["x"], ["y"]));
        Assert.Throws<ArgumentException>(() => new Dataset("bad", [1.0], [1.0], [], ["y"]));
    }

    // ---- slices, splits, classes, standardisation ----

    private static Dataset Numbered(int rows)
        => Dataset.ForClassification("n", [.. Enumerable.Range(0, rows).Select(i => (double)i)], [.. Enumerable.Range(0, rows).Select(i => i % 3)], ["i"], "class", ["a", "b", "c"]);

    [Fact]
    public void Take_keeps_the_first_rows()
    {
        var data = Numbered(10).Take(4);

        Assert.Equal([0.0, 1, 2, 3], data.Inputs.ToArray());
        Assert.Equal([0.0, 1, 2, 0], data.Targets.ToArray());
        Assert.Equal(["a", "b", "c"], data.ClassNames);
        Assert.Equal(10, Numbered(10).Take(50).Count);
    }

    [Fact]
    public void Split_is_seeded_disjoint_and_complete()
    {
        var data = Numbered(100);

        var (train, validation) = data.Split(10, seed: 1);
        var (train2, validation2) = data.Split(10, seed: 1);
        var (_, other) = data.Split(10, seed: 2);

        Assert.Equal(90, train.Count);
        Assert.Equal(10, validation.Count);
        Assert.Equal(validation.Inputs.ToArray(), validation2.Inputs.ToArray());
        Assert.Equal(train.Inputs.ToArray(), train2.Inputs.ToArray());
        Assert.NotEqual(validation.Inputs.ToArray(), other.Inputs.ToArray());
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (double)i), train.Inputs.ToArray().Concat(validation.Inputs.ToArray()).Order());
        // Rows keep their labels, and each part keeps the original order.
        Assert.All(Enumerable.Range(0, 10), r => Assert.Equal(validation.Inputs[r] % 3, validation.Targets[r]));
        Assert.Equal(train.Inputs.ToArray().Order(), train.Inputs.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void A_split_must_leave_rows_on_both_sides(int rows)
    {
        var e = Assert.Throws<BackpropException>(() => Numbered(5).Split(rows, 1));

        Assert.Equal($"A validation set of {rows} rows cannot be carved from n's 5 rows: both parts need at least one row.", e.Message);
    }

    [Fact]
    public void Values_become_classes_in_numeric_order()
    {
        var classes = Datasets.Dosage.ToClassification();

        Assert.Equal(["0", "1"], classes.ClassNames);
        Assert.Equal([0.0, 1, 0], classes.Targets.ToArray());
        Assert.Throws<BackpropException>(() => new Dataset("one", [1.0, 2.0], [4.0, 4.0], ["x"], ["y"]).ToClassification());
    }

    [Fact]
    public void Standardisation_is_fitted_on_one_set_and_applied_to_another()
    {
        var train = new Dataset("train", [1.0, 5, 3, 5, 5, 5], [0.0, 0, 0], ["a", "b"], ["y"]);
        var test = new Dataset("test", [2.0, 7], [0.0], ["a", "b"], ["y"]);

        var s = train.FitStandardization();

        Assert.Equal([3.0, 5.0], s.Means);
        // Population deviation of 1, 3, 5; column b is constant and is only centred.
        Assert.Equal(Math.Sqrt(8.0 / 3), s.Deviations[0], 15);
        Assert.Equal(1.0, s.Deviations[1]);
        Assert.Equal([-2 / Math.Sqrt(8.0 / 3), 0, 0, 0, 2 / Math.Sqrt(8.0 / 3), 0], train.Standardize(s).Inputs.ToArray());
        Assert.Equal([-1 / Math.Sqrt(8.0 / 3), 2], test.Standardize(s).Inputs.ToArray());
    }

    [Fact]
    public void Training_tensors_in_double_share_the_datasets_arrays_and_in_float_are_copies()
    {
        var data = new Dataset("d", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [7.0, 8.0, 9.0], ["a", "b"], ["y"]);

        var (x, y) = data.TrainingTensors<double>();
        var (xf, yf) = data.TrainingTensors<float>();

        Assert.Equal(new Shape(3, 2), x.Shape);
        Assert.Equal(new Shape(3, 1), y.Shape);
        Assert.Equal(data.Inputs.ToArray(), x.ToDoubleArray());
        Assert.Equal(data.Targets.ToArray(), y.ToDoubleArray());
        // The same storage: no second copy of a large data set while it trains.
        Assert.True(x.Data.Overlaps(data.Inputs));
        Assert.True(y.Data.Overlaps(data.Targets));
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], xf.Data.ToArray());
        Assert.Equal([7f, 8f, 9f], yf.Data.ToArray());
    }

    [Fact]
    public void Rows_of_the_inputs_come_out_as_a_tensor_of_those_rows()
    {
        var data = new Dataset("d", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [7.0, 8.0, 9.0], ["a", "b"], ["y"]);

        var rows = data.InputRows<double>(1, 2);

        Assert.Equal(new Shape(2, 2), rows.Shape);
        Assert.Equal([3.0, 4.0, 5.0, 6.0], rows.ToDoubleArray());
    }
}
