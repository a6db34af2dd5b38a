using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Optim;

public sealed class OptimizerKindTests
{
    [Theory]
    [InlineData("gd", OptimizerKind.GradientDescent, "gradient descent")]
    [InlineData("SGD", OptimizerKind.GradientDescent, "gradient descent")]
    [InlineData(" momentum ", OptimizerKind.Momentum, "momentum")]
    [InlineData("Adam", OptimizerKind.Adam, "Adam")]
    public void Each_name_reads_as_its_kind_and_prints_one_way(string name, OptimizerKind kind, string display)
    {
        Assert.Equal(kind, OptimizerKinds.Parse(name));
        Assert.Equal(display, kind.DisplayName());
        Assert.Equal(kind, OptimizerKinds.Parse(kind.CommandName()));
    }

    [Fact]
    public void Each_kind_builds_its_optimizer()
    {
        var p = new Parameter<double>("p", new Backprop.Tensors.Shape(1));
        Assert.IsType<GradientDescent<double>>(OptimizerKind.GradientDescent.Create([p], 0.1));
        Assert.IsType<Momentum<double>>(OptimizerKind.Momentum.Create([p], 0.1));
        Assert.IsType<Adam<double>>(OptimizerKind.Adam.Create([p], 0.1));
    }

    [Fact]
    public void An_unknown_name_lists_the_known_ones()
        => Assert.Equal("Unknown optimizer 'rmsprop'; choose one of gd, momentum, adam.", Assert.Throws<BackpropException>(() => OptimizerKinds.Parse("rmsprop")).Message);
}
