using Backprop.Tensors;

namespace Backprop.Tests.Autograd;

/// <summary>What Backward() does to gradients: seeding, accumulation, shared inputs, deep chains, misuse.</summary>
public sealed class BackwardTests
{
    private static Tensor<double> Leaf(params double[] values)
        => new(values, new Shape(values.Length), requiresGrad: true);

    [Fact]
    public void Backward_of_a_scalar_leaf_gives_gradient_one()
    {
        var x = Tensor<double>.Scalar(3, requiresGrad: true);

        x.Backward();

        Assert.Equal(1.0, x.Grad!.Item());
    }

    [Fact]
    public void A_second_backward_adds_to_leaf_gradients_until_ZeroGrad()
    {
        var x = Leaf(1, -2, 3);
        var loss = (x * x).Sum();

        loss.Backward();
        Assert.Equal([2.0, -4, 6], x.Grad!.ToDoubleArray());

        loss.Backward();
        Assert.Equal([4.0, -8, 12], x.Grad!.ToDoubleArray());

        x.ZeroGrad();
        Assert.Equal([0.0, 0, 0], x.Grad!.ToDoubleArray());

        loss.Backward();
        Assert.Equal([2.0, -4, 6], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void Intermediate_gradients_do_not_accumulate_across_backward_calls()
    {
        var x = Leaf(0.5, -1);
        var h = x.Tanh();
        var loss = (h * 3.0).Sum();

        loss.Backward();
        loss.Backward();

        // d loss/d h = 3 on each call; the leaf gradient doubles: 2·3·(1 − tanh² x).
        Assert.Equal([3.0, 3], h.Grad!.ToDoubleArray());
        Assert.Equal(6 * (1 - Math.Pow(Math.Tanh(0.5), 2)), x.Grad![0], 1e-14);
    }

    [Fact]
    public void A_tensor_used_twice_receives_both_contributions()
    {
        var x = Leaf(1.5, -0.5);

        // d/dx (x·x + x + x) = 2x + 2
        (x * x + x + x).Sum().Backward();

        Assert.Equal([5.0, 1], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void A_shared_intermediate_is_differentiated_once_with_all_its_uses()
    {
        var x = Tensor<double>.Scalar(0.3, requiresGrad: true);
        var t = x.Tanh();

        // d/dx (t² + t) with t = tanh x is (2t + 1)(1 − t²)
        (t * t + t).Backward();

        var tanh = Math.Tanh(0.3);
        Assert.Equal((2 * tanh + 1) * (1 - tanh * tanh), x.Grad!.Item(), 1e-15);
    }

    [Fact]
    public void Constants_in_the_graph_get_no_gradient()
    {
        var x = Leaf(1, 2);
        var c = Tensor<double>.FromArray([3, 4], 2);

        (x * c).Sum().Backward();

        Assert.Equal([3.0, 4], x.Grad!.ToDoubleArray());
        Assert.Null(c.Grad);
    }

    [Fact]
    public void Backward_on_a_non_scalar_throws_naming_its_shape()
    {
        var y = Tensor<double>.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        y.RequiresGrad = true;

        var ex = Assert.Throws<InvalidOperationException>(() => (y * 2.0).Backward());

        Assert.Contains("scalar", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", ex.Message, StringComparison.Ordinal);
        Assert.Null(y.Grad);
    }

    [Fact]
    public void Backward_on_a_result_of_constants_throws_explaining_why()
    {
        var loss = (Tensor<double>.FromArray([1, 2], 2) * Tensor<double>.FromArray([3, 4], 2)).Sum();

        var ex = Assert.Throws<InvalidOperationException>(loss.Backward);

        Assert.Contains("require gradients", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chain_of_ten_thousand_scalings_backpropagates_without_overflowing_the_stack()
    {
        const int length = 10_000;
        var x = Leaf(0.5, -2);
        var y = x;
        for (var i = 0; i < length; i++)
        {
            y *= 1.0001;
        }

        (y * Tensor<double>.FromArray([1, 3], 2)).Sum().Backward();

        // d/dx (c^N · x · w) = c^N · w; each of the N products rounds by at most half an ulp.
        var expected = Math.Pow(1.0001, length);
        Assert.Equal(expected, x.Grad![0], expected * length * 1.2e-16);
        Assert.Equal(3 * expected, x.Grad![1], 3 * expected * length * 1.2e-16);
    }

    [Fact]
    public void A_chain_of_ten_thousand_additions_then_tanh_has_the_closed_form_gradient()
    {
        const int length = 10_000;
        var x = Tensor<double>.Scalar(-0.4, requiresGrad: true);
        var step = Tensor<double>.Scalar(1e-4);
        var y = x;
        for (var i = 0; i < length; i++)
        {
            y += step;
        }

        y.Tanh().Backward();

        // tanh(x + 1)′ = 1 − tanh²(x + 1); the sum of N steps is 1 to within N ulps.
        var tanh = Math.Tanh(-0.4 + 1);
        Assert.Equal(1 - (tanh * tanh), x.Grad!.Item(), 1e-11);
    }

    [Fact]
    public void A_deep_chain_that_reuses_its_input_at_every_step_sums_all_paths()
    {
        // y₀ = x, yₖ₊₁ = c·yₖ + x (2·5000 ops): y_N = x·(c^N + (c^N − 1)/(c − 1)).
        const int steps = 5_000;
        const double c = 1.0001;
        var x = Tensor<double>.Scalar(0.7, requiresGrad: true);
        var y = x;
        for (var i = 0; i < steps; i++)
        {
            y = (y * c) + x;
        }

        y.Backward();

        var power = Math.Pow(c, steps);
        var expected = power + ((power - 1) / (c - 1));
        Assert.Equal(expected, x.Grad!.Item(), expected * 1e-10);
    }
}
