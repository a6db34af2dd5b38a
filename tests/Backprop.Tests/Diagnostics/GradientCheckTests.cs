using Backprop.Autograd;
using Backprop.Diagnostics;
using Backprop.Tensors;

namespace Backprop.Tests.Diagnostics;

public sealed class GradientCheckTests
{
    private static Tensor<double> Leaf(string? name, params double[] values)
        => new(values, new Shape(values.Length), requiresGrad: true) { Name = name };

    [Fact]
    public void Both_columns_match_the_closed_form_derivative()
    {
        var x = Leaf("x", -1.5, 0.25, 2);

        // d/dx Σ x³ = 3x²
        var result = GradientCheck.Compare(() => (x * x * x).Sum(), [x]);

        Assert.Equal(3, result.Count);
        for (var i = 0; i < 3; i++)
        {
            var expected = 3 * x[i] * x[i];
            Assert.Equal($"x[{i}]", result[i].Name);
            Assert.Equal(expected, result[i].Backprop, 1e-15 * Math.Max(1, expected));
            // Central differences: error h²·f‴/6 = 1e-12 plus rounding ≈ 1e-16·|f|/h.
            Assert.Equal(expected, result[i].Numerical, 1e-8);
            Assert.True(result[i].RelativeError < 1e-8);
        }
    }

    [Fact]
    public void A_wrong_derivative_shows_up_as_a_large_relative_error()
    {
        var x = Leaf("x", 1, 2);

        // Back-propagation sees 2x, the finite differences see 3x: the rule "d(3x)/dx = 2" is wrong.
        var result = GradientCheck.Compare(() => GradMode.IsEnabled ? (x * 2.0).Sum() : (x * 3.0).Sum(), [x]);

        Assert.All(result, c =>
        {
            Assert.Equal(2.0, c.Backprop);
            Assert.Equal(3.0, c.Numerical, 1e-8);
            Assert.Equal(1.0 / 3, c.RelativeError, 1e-8);
        });
    }

    [Fact]
    public void Entries_follow_tensor_order_then_element_order_with_names()
    {
        var a = Leaf("a", 1, 2);
        var unnamed = Leaf(null, 3);

        var result = GradientCheck.Compare(() => (a * unnamed).Sum(), [a, unnamed]);

        Assert.Equal(["a[0]", "a[1]", "tensor1[0]"], result.Select(c => c.Name));
        Assert.Equal([3.0, 3.0, 3.0], result.Select(c => c.Backprop));
    }

    [Fact]
    public void Values_are_restored_and_earlier_gradients_do_not_leak_in()
    {
        var x = Leaf("x", 0.1, -0.7, 1.3);
        var before = x.ToDoubleArray();
        (x * 5.0).Sum().Backward();

        var result = GradientCheck.Compare(() => x.Tanh().Sum(), [x]);

        Assert.Equal(before, x.ToDoubleArray());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(1 - Math.Pow(Math.Tanh(before[i]), 2), result[i].Backprop, 1e-15);
        }
    }

    [Fact]
    public void A_tensor_the_loss_does_not_use_gets_zero_in_both_columns()
    {
        var used = Leaf("used", 2);
        var unused = Leaf("unused", 5, 6);

        var result = GradientCheck.Compare(() => used.Square().Sum(), [used, unused]);

        Assert.Equal(4.0, result[0].Backprop);
        Assert.All(result.Skip(1), c => Assert.Equal((0.0, 0.0), (c.Backprop, c.Numerical)));
    }

    [Fact]
    public void The_step_is_the_one_asked_for()
    {
        var x = Leaf("x", 1);

        // For x³ the central difference is 3x² + h²: with h = 0.1 the check reports 3.01.
        var result = GradientCheck.Compare(() => (x * x * x).Sum(), [x], step: 0.1);

        Assert.Equal(3.01, result[0].Numerical, 1e-12);
    }

    [Theory]
    [InlineData(2.0, 1.0, 0.5)]
    [InlineData(-3.0, 3.0, 2.0)]
    [InlineData(0.5, 0.25, 0.25)]
    [InlineData(1e-9, -1e-9, 2e-9)]
    [InlineData(0.0, 0.0, 0.0)]
    [InlineData(100.0, 100.0, 0.0)]
    public void RelativeError_is_relative_above_one_and_absolute_below(double backprop, double numerical, double expected)
        => Assert.Equal(expected, new GradientComparison("g", backprop, numerical).RelativeError, 1e-15);

    [Fact]
    public void Loss_built_from_constants_throws()
    {
        var constant = Tensor<double>.FromArray([1, 2], 2);

        Assert.Throws<InvalidOperationException>(() => GradientCheck.Compare(() => constant.Sum(), [constant]));
    }
}

public sealed class ModuleGradientCheckTests
{
    private static readonly Tensor<double> X = Tensor<double>.FromArray([0.0, 0.5, 1.0], 3, 1);
    private static readonly Tensor<double> Y = Tensor<double>.FromArray([0.0, 1.0, 0.0], 3, 1);

    [Fact]
    public void Check_names_every_number_and_passes_a_correct_network()
    {
        var network = Backprop.Nn.Lesson.CreateNetwork<double>();

        var rows = GradientCheck.Check(network, new Backprop.Losses.SumSquaredResiduals(), X, Y);

        Assert.Equal(["w1", "w2", "b1", "b2", "w3", "w4", "b3"], rows.Select(r => r.Name));
        Assert.All(rows, r => Assert.True(r.RelativeError < 1e-8, $"{r.Name}: {r.RelativeError}"));
        Assert.Equal(0.7609437196206793, rows[0].Backprop, 1e-12);
    }

    [Fact]
    public void Check_catches_a_wrong_derivative_rule_in_a_users_module()
    {
        var rows = GradientCheck.Check(new InjectedModule(), new Backprop.Losses.SumSquaredResiduals(), X, Y);

        Assert.Equal(["inner.weight[0,0]", "inner.weight[0,1]", "inner.bias[0]", "inner.bias[1]"], rows.Select(r => r.Name));
        // Every number sits behind the wrong rule, so every backprop gradient is 2/3 of the true one.
        Assert.All(rows.Where(r => Math.Abs(r.Numerical) > 1e-3), r =>
        {
            Assert.Equal(2.0 / 3, r.Backprop / r.Numerical, 1e-6);
            Assert.True(r.RelativeError > 1e-3);
        });
    }

    [Fact]
    public void The_two_engines_agree_on_a_deeper_network()
    {
        var network = Backprop.Nn.Sequential<double>.Mlp([1, 3, 2, 1], Backprop.Nn.Activation.Tanh);
        new Backprop.Nn.StandardNormalInitializer(11).Initialize(network);

        var rows = GradientCheck.CompareEngines(network, new Backprop.Losses.MeanSquaredError(), X, Y);

        Assert.Equal(network.ParameterCount(), rows.Count);
        Assert.All(rows, r => Assert.True(r.RelativeError < 1e-12, $"{r.Name}: tensor {r.Tensor}, scalar {r.Scalar}"));
        Assert.Contains(rows, r => Math.Abs(r.Tensor) > 1e-3);
    }
}
