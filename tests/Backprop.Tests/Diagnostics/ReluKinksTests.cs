using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Tests.Diagnostics;

public sealed class ReluKinksTests
{
    // 1 → 2 (ReLU) → 1, biases 0: at the input 0 both hidden units sit exactly at the kink.
    private static Sequential<double> Network()
    {
        var network = Sequential<double>.Mlp([1, 2, 1], Activation.Relu);
        Lesson.SetValues(network, new Dictionary<string, double> { ["layer0.weight[0,0]"] = 1, ["layer0.weight[0,1]"] = -2, ["layer1.weight[0,0]"] = 3, ["layer1.weight[1,0]"] = 4 });
        return network;
    }

    [Fact]
    public void Units_whose_input_is_exactly_zero_are_found_row_by_row()
    {
        var kinks = ReluKinks.Find(Network(), Tensor<double>.FromArray([0.0, 1.0, -1e-300], 3, 1));
        Assert.Equal([new ReluKink(0, 0, 0), new ReluKink(0, 1, 0)], kinks);
    }

    [Fact]
    public void Only_numbers_upstream_of_a_kink_are_affected()
    {
        var network = Network();
        var kinks = new[] { new ReluKink(0, 1, 0) };
        Assert.Equal(kinks[0], ReluKinks.Upstream(network, kinks, network.Element("layer0.bias[1]")));
        Assert.Equal(kinks[0], ReluKinks.Upstream(network, kinks, network.Element("layer0.weight[0,1]")));
        Assert.Null(ReluKinks.Upstream(network, kinks, network.Element("layer0.bias[0]")));
        Assert.Null(ReluKinks.Upstream(network, kinks, network.Element("layer1.weight[1,0]")));
    }

    [Fact]
    public void Other_activations_have_no_kinks()
        => Assert.Empty(ReluKinks.Find(Sequential<double>.Mlp([1, 2, 1], Activation.Tanh), Tensor<double>.FromArray([0.0], 1, 1)));
}
