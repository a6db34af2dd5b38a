using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Tests.Tensors;

/// <summary>Misused matrix products and cross-entropy targets fail with messages that say what was wrong.</summary>
public sealed class ErrorMessageTests
{
    [Theory]
    [InlineData(new int[] { 2, 3 }, new int[] { 2, 3 })]
    [InlineData(new int[] { 2, 3 }, new int[] { 4, 1 })]
    [InlineData(new int[] { 3 }, new int[] { 3, 2 })]
    [InlineData(new int[] { 2, 3 }, new int[] { 3 })]
    [InlineData(new int[] { 1, 2, 3 }, new int[] { 3, 2 })]
    public void MatMul_of_mismatched_shapes_throws_naming_both(int[] left, int[] right)
    {
        var a = new Tensor<double>(new Shape(left));
        var b = new Tensor<double>(new Shape(right));

        var ex = Assert.Throws<ArgumentException>(() => a.MatMul(b));

        Assert.Contains($"{a.Shape} and {b.Shape}", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3.0)]
    [InlineData(-1.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    [InlineData(1e12)]
    public void CrossEntropy_target_that_is_not_a_class_index_throws_naming_row_and_range(double bad)
    {
        var logits = new Tensor<double>(new Shape(2, 3), requiresGrad: true);
        var target = Tensor<double>.FromArray([0, bad], 2);

        var ex = Assert.Throws<ArgumentException>(() => logits.SoftmaxCrossEntropy(target));

        Assert.Contains("row 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("0 to 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CrossEntropy_target_changed_out_of_range_before_a_replay_throws()
    {
        var logits = new Tensor<double>(new Shape(2, 3), requiresGrad: true);
        var target = Tensor<double>.FromArray([0, 2], 2);
        var graph = new Graph<double>(logits.SoftmaxCrossEntropy(target));

        target[1] = 3;

        Assert.Throws<ArgumentException>(graph.Forward);
    }

    [Theory]
    [InlineData(new int[] { 3 })]
    [InlineData(new int[] { 2, 4 })]
    [InlineData(new int[] { 3, 2 })]
    [InlineData(new int[] { 2, 1, 3 })]
    public void CrossEntropy_target_of_the_wrong_shape_throws_naming_the_shapes(int[] shape)
    {
        var logits = new Tensor<double>(new Shape(2, 3));
        var target = new Tensor<double>(new Shape(shape));

        var ex = Assert.Throws<ArgumentException>(() => logits.SoftmaxCrossEntropy(target));

        Assert.Contains(target.Shape.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CrossEntropy_of_logits_that_are_not_a_matrix_throws_naming_the_shape()
    {
        var logits = new Tensor<double>(new Shape(3));

        var ex = Assert.Throws<ArgumentException>(() => logits.SoftmaxCrossEntropy(Tensor<double>.Zeros(1)));

        Assert.Contains("[3]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_operands_throw_ArgumentNullException()
    {
        var x = Tensor<double>.Zeros(2);

        Assert.Throws<ArgumentNullException>(() => x + null!);
        Assert.Throws<ArgumentNullException>(() => TensorOps.Tanh<double>(null!));
        Assert.Throws<ArgumentNullException>(() => x.MatMul(null!));
    }
}
