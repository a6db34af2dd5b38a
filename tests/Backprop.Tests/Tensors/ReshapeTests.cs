using Backprop.Autograd;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>Reshape and flatten: views of the same storage, gradients flowing through, and their errors.</summary>
public sealed class ReshapeTests
{
    [Fact]
    public void Reshape_is_a_view_of_the_same_numbers()
    {
        var x = Uniform(new Rng(1), -1, 1, [2, 3, 4]);

        var y = x.Reshape(6, 4);
        x.Data[5] = 42;

        Assert.Equal(new Shape(6, 4), y.Shape);
        Assert.Equal(42, y[5]);
        Assert.Equal(x.ToDoubleArray(), y.ToDoubleArray());
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new[] { -1, 4 }, new[] { 6, 4 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 2, -1 }, new[] { 2, 12 })]
    [InlineData(new[] { 24 }, new[] { 2, 3, -1 }, new[] { 2, 3, 4 })]
    [InlineData(new[] { 1 }, new int[0], new int[0])]
    public void Reshape_infers_one_size_from_minus_1(int[] from, int[] to, int[] expected)
    {
        Assert.Equal(new Shape(expected), new Tensor<double>(new Shape(from)).Reshape(to).Shape);
    }

    [Fact]
    public void Flatten_keeps_the_batch_and_joins_the_rest()
    {
        Assert.Equal(new Shape(5, 60), new Tensor<double>(new Shape(5, 3, 4, 5)).Flatten().Shape);
        Assert.Equal(new Shape(7, 1), new Tensor<double>(new Shape(7)).Flatten().Shape);
    }

    [Fact]
    public void Gradients_flow_through_reshape_and_flatten()
    {
        var rng = new Rng(2);
        var x = Uniform(rng, -1, 1, [2, 3, 2, 2], requiresGrad: true, name: "x");

        AssertGradientsMatch(WeightedSum(rng, () => x.Reshape(3, -1).Tanh()), x);
        AssertGradientsMatch(WeightedSum(rng, () => x.Flatten().Square()), x);
    }

    [Fact]
    public void A_reshaped_leaf_keeps_its_accumulated_gradient()
    {
        var x = new Tensor<double>([1, 2, 3, 4], new Shape(2, 2), requiresGrad: true);

        x.Reshape(4).Sum().Backward();
        x.Reshape(1, 4).Sum().Backward();

        Assert.Equal([2, 2, 2, 2], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void A_replayed_reshape_sees_the_new_values()
    {
        var x = new Tensor<double>([1, 2, 3, 4], new Shape(2, 2), requiresGrad: true);
        var graph = new Graph<double>(x.Reshape(4).Square().Sum());

        x.Data.Fill(2);
        graph.Forward();

        Assert.Equal(16, graph.Root.Item());
    }

    [Theory]
    [InlineData(new[] { 4, 2 }, "Cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements).")]
    [InlineData(new[] { 4, -1 }, "Cannot reshape [2, 3] (6 elements) to [4, -1]: 6 is not a multiple of 4.")]
    [InlineData(new[] { -1, -1 }, "Cannot reshape [2, 3] to [-1, -1]: sizes must be positive (one may be -1).")]
    [InlineData(new[] { 0, 6 }, "Cannot reshape [2, 3] to [0, 6]: sizes must be positive (one may be -1).")]
    public void Reshape_to_a_shape_that_does_not_fit_throws_naming_both(int[] to, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new Tensor<double>(new Shape(2, 3)).Reshape(to));

        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void Flatten_of_a_scalar_throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor<double>.Scalar(1).Flatten());

        Assert.StartsWith("Flatten keeps the first dimension (the batch); a scalar has none.", e.Message);
    }
}
