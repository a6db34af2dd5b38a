using Backprop.Tensors;

namespace Backprop.Tests.Tensors;

public sealed class ShapeTests
{
    [Theory]
    [InlineData(new int[] { 7 }, 1, 7)]
    [InlineData(new int[] { 2, 3 }, 2, 6)]
    [InlineData(new int[] { 1, 1 }, 2, 1)]
    [InlineData(new int[] { 4, 1, 5 }, 3, 20)]
    public void Rank_and_length_follow_the_dimensions(int[] dimensions, int rank, int length)
    {
        var shape = new Shape(dimensions);

        Assert.Equal(rank, shape.Rank);
        Assert.Equal(length, shape.Length);
        Assert.Equal(dimensions, shape.ToArray());
        for (var axis = 0; axis < rank; axis++)
        {
            Assert.Equal(dimensions[axis], shape[axis]);
        }
    }

    [Fact]
    public void The_scalar_shape_has_rank_zero_and_one_element()
    {
        Assert.Equal(0, Shape.Scalar.Rank);
        Assert.Equal(1, Shape.Scalar.Length);
        Assert.Empty(Shape.Scalar.ToArray());
        Assert.Equal("[]", Shape.Scalar.ToString());
        Assert.Equal(1, Shape.Scalar.Rows);
        Assert.Equal(1, Shape.Scalar.Columns);
    }

    [Fact]
    public void The_default_shape_is_the_scalar_shape()
    {
        var shape = default(Shape);

        Assert.Equal(Shape.Scalar, shape);
        Assert.Equal(1, shape.Length);
        Assert.Equal(0, shape.Rank);
    }

    [Fact]
    public void Shapes_with_the_same_dimensions_are_equal()
    {
        var a = new Shape(2, 3);
        var b = new Shape(2, 3);

        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Theory]
    [InlineData(new int[] { 2, 3 }, new int[] { 3, 2 })]
    [InlineData(new int[] { 6 }, new int[] { 2, 3 })]
    [InlineData(new int[] { 3 }, new int[] { 1, 3 })]
    [InlineData(new int[] { 1 }, new int[] { })]
    [InlineData(new int[] { 2, 3 }, new int[] { 2, 3, 1 })]
    public void Shapes_with_different_dimensions_are_not_equal(int[] left, int[] right)
    {
        var a = new Shape(left);
        var b = new Shape(right);

        Assert.False(a == b);
        Assert.True(a != b);
        Assert.False(a.Equals((object)b));
    }

    [Fact]
    public void A_shape_is_not_equal_to_other_objects()
        => Assert.False(new Shape(2).Equals((object)2));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_non_positive_dimension_throws(int bad)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(bad));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(3, bad));
    }

    [Fact]
    public void More_elements_than_an_array_can_hold_throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(100_000, 100_000));

    [Fact]
    public void The_shape_keeps_its_own_copy_of_the_dimensions()
    {
        int[] dimensions = [2, 3];
        var shape = new Shape(dimensions);
        dimensions[0] = 5;
        shape.ToArray()[1] = 9;

        Assert.Equal(new Shape(2, 3), shape);
    }

    [Fact]
    public void Rows_and_columns_view_a_shape_as_a_matrix()
    {
        Assert.Equal((4, 5), (new Shape(4, 5).Rows, new Shape(4, 5).Columns));
        Assert.Equal((1, 7), (new Shape(7).Rows, new Shape(7).Columns));
    }

    [Fact]
    public void ToString_lists_the_dimensions()
        => Assert.Equal("[2, 3]", new Shape(2, 3).ToString());
}
