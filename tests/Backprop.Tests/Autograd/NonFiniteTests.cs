using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Tests.Autograd;

/// <summary>Finding where a NaN or an infinity first appeared in a recorded graph.</summary>
public sealed class NonFiniteTests
{
    [Fact]
    public void The_first_non_finite_output_is_the_operation_that_made_it()
    {
        var x = new Tensor<double>([1, 800], new Shape(2), requiresGrad: true) { Name = "x" };
        var graph = new Graph<double>((x * 2.0).Exp().Log().Sum()); // e^1600 overflows in exp

        var found = graph.FirstNonFiniteOutput();

        Assert.NotNull(found);
        Assert.Equal("exp", found.Value.Op.Name);
        Assert.Equal(1, found.Value.Index);
        Assert.Equal("exp (operation 2 of 4; inputs: scale)", graph.Describe(found.Value.Op, found.Value.Index));
    }

    [Fact]
    public void The_first_non_finite_gradient_is_the_rule_that_made_it_from_a_finite_one()
    {
        var x = new Tensor<double>([0, 2], new Shape(2), requiresGrad: true) { Name = "x" };
        var graph = new Graph<double>(x.Log().Sum()); // d/dx log x = 1/x: infinite at 0, but log 0 = −∞ in the forward pass too

        graph.Backward();

        var found = graph.FirstNonFiniteGradient();
        Assert.NotNull(found);
        Assert.Equal("log", found.Value.Op.Name);
        Assert.Equal("log (operation 1 of 2; inputs: x)", graph.Describe(found.Value.Op, found.Value.Index));
    }

    [Fact]
    public void A_finite_graph_has_neither()
    {
        var x = new Tensor<double>([0.5, 2], new Shape(2), requiresGrad: true);
        var graph = new Graph<double>(x.Square().Sum());
        graph.Backward();

        Assert.Null(graph.FirstNonFiniteOutput());
        Assert.Null(graph.FirstNonFiniteGradient());
    }
}
