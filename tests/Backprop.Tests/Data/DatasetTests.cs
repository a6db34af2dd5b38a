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
}
