using Backprop.Tensors;

namespace Backprop.Tests.Tensors;

public sealed class TensorTests
{
    [Fact]
    public void A_new_tensor_is_zero_filled_and_a_leaf()
    {
        var t = new Tensor<double>(new Shape(2, 3), requiresGrad: true);

        Assert.Equal(new Shape(2, 3), t.Shape);
        Assert.Equal(6, t.Length);
        Assert.All(t.ToDoubleArray(), v => Assert.Equal(0.0, v));
        Assert.True(t.RequiresGrad);
        Assert.True(t.IsLeaf);
        Assert.Null(t.Creator);
        Assert.Null(t.Grad);
    }

    [Fact]
    public void The_values_constructor_copies_its_input()
    {
        double[] values = [1, 2, 3, 4, 5, 6];
        var t = new Tensor<double>(values, new Shape(3, 2));
        values[0] = 99;

        Assert.Equal([1.0, 2, 3, 4, 5, 6], t.ToDoubleArray());
        Assert.False(t.RequiresGrad);
    }

    [Fact]
    public void The_wrong_number_of_values_throws_with_both_counts()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tensor<float>([1f, 2f, 3f], new Shape(2, 2)));

        Assert.Contains("3 values", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 2]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Factories_build_the_shapes_they_name()
    {
        var zeros = Tensor<float>.Zeros(3, 4);
        var array = Tensor<double>.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var scalar = Tensor<double>.Scalar(2.5, requiresGrad: true);

        Assert.Equal(new Shape(3, 4), zeros.Shape);
        Assert.All(zeros.ToDoubleArray(), v => Assert.Equal(0.0, v));
        Assert.Equal(new Shape(2, 3), array.Shape);
        Assert.Equal(6.0, array[1, 2]);
        Assert.Equal(Shape.Scalar, scalar.Shape);
        Assert.Equal(2.5, scalar.Item());
        Assert.True(scalar.RequiresGrad);
    }

    [Fact]
    public void Indexers_are_row_major_and_write_through()
    {
        var t = Tensor<double>.FromArray([0, 1, 2, 3, 4, 5], 2, 3);

        Assert.Equal(5.0, t[1, 2]);
        Assert.Equal(3.0, t[1, 0]);
        Assert.Equal(t[4], t[1, 1]);

        t[0, 2] = -7;
        t[5] = 8;
        t.Data[0] = 9;

        Assert.Equal([9.0, 1, -7, 3, 4, 8], t.ToDoubleArray());
    }

    [Fact]
    public void Two_indices_on_a_tensor_that_is_not_a_matrix_throw()
    {
        var vector = Tensor<double>.FromArray([1, 2, 3], 3);

        var ex = Assert.Throws<InvalidOperationException>(() => vector[0, 1]);

        Assert.Contains("[3]", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => vector[0, 0] = 1);
    }

    [Theory]
    [InlineData(-1, 0)]
    [InlineData(2, 0)]
    [InlineData(0, -1)]
    [InlineData(0, 3)]
    public void Matrix_indices_out_of_range_throw(int row, int column)
    {
        var t = Tensor<double>.Zeros(2, 3);

        Assert.Throws<ArgumentOutOfRangeException>(() => t[row, column]);
    }

    [Fact]
    public void Item_returns_the_value_of_any_one_element_tensor()
    {
        Assert.Equal(4f, Tensor<float>.FromArray([4f], 1, 1).Item());
        Assert.Equal(-3.0, Tensor<double>.FromArray([-3], 1).Item());
    }

    [Fact]
    public void Item_on_several_elements_throws_with_the_shape()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Tensor<double>.Zeros(2, 2).Item());

        Assert.Contains("[2, 2]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromRows_builds_a_matrix_in_the_element_type()
    {
        var t = Tensor<float>.FromRows([[1.5, 2], [3, 4], [5, 6.25]]);

        Assert.Equal(new Shape(3, 2), t.Shape);
        Assert.Equal([1.5f, 2f, 3f, 4f, 5f, 6.25f], t.Data.ToArray());
    }

    [Fact]
    public void FromRows_with_ragged_rows_throws_naming_the_row()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor<double>.FromRows([[1, 2], [3, 4], [5]]));

        Assert.Contains("Row 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromRows_without_rows_or_columns_throws()
    {
        Assert.Throws<ArgumentException>(() => Tensor<double>.FromRows([]));
        Assert.Throws<ArgumentException>(() => Tensor<double>.FromRows([[]]));
    }

    [Fact]
    public void An_operation_result_records_its_creator_and_inputs()
    {
        var a = Tensor<double>.FromArray([1, 2], 2);
        a.RequiresGrad = true;
        var b = Tensor<double>.FromArray([3, 4], 2);

        var c = a * b;

        Assert.False(c.IsLeaf);
        Assert.True(c.RequiresGrad);
        Assert.Equal("multiply", c.Creator!.Name);
        Assert.Same(c, c.Creator.Output);
        Assert.Equal([a, b], c.Creator.Inputs);
    }

    [Fact]
    public void A_result_of_constants_is_not_recorded()
    {
        var c = Tensor<double>.FromArray([1, 2], 2) + Tensor<double>.FromArray([3, 4], 2);

        Assert.False(c.RequiresGrad);
        Assert.True(c.IsLeaf);
        Assert.Equal([4.0, 6], c.ToDoubleArray());
    }

    [Fact]
    public void ToString_shows_name_shape_and_at_most_eight_values()
    {
        var t = Tensor<double>.FromArray([.. Enumerable.Range(0, 10).Select(i => i + 0.5)], 2, 5);
        t.Name = "w";

        Assert.Equal("w[2, 5]: [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, …]", t.ToString());
        Assert.Equal("tensor[2]: [1, 2]", Tensor<float>.FromArray([1f, 2f], 2).ToString());
    }

    [Fact]
    public void ZeroGrad_before_any_backward_leaves_no_gradient()
    {
        var t = Tensor<double>.Zeros(3);
        t.ZeroGrad();

        Assert.Null(t.Grad);
    }

    [Fact]
    public void Threads_that_first_touch_a_gradient_at_once_all_get_the_same_array()
    {
        // Ops add into disjoint parts of one gradient from several worker threads; the array made on
        // first use must be the one every thread writes into.
        for (var round = 0; round < 500; round++)
        {
            var t = new Tensor<double>(new Shape(64), requiresGrad: true);
            var seen = new double[4][];
            using var start = new Barrier(seen.Length);
            var threads = Enumerable.Range(0, seen.Length).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                seen[i] = t.GradData;
                seen[i][i] = i + 1;
            })).ToList();
            threads.ForEach(th => th.Start());
            threads.ForEach(th => th.Join());

            Assert.All(seen, a => Assert.Same(t.GradData, a));
            Assert.Equal([1.0, 2.0, 3.0, 4.0], t.GradData.Take(4));
        }
    }
}
