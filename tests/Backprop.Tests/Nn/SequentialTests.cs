using Backprop.Autograd;
using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Tests.Nn;

public sealed class SequentialTests
{
    private static Tensor<double> Random(Rng rng, params int[] shape)
    {
        var t = new Tensor<double>(new Shape(shape));
        for (var i = 0; i < t.Length; i++)
        {
            t[i] = rng.NextUniform(-1, 1);
        }
        return t;
    }

    [Fact]
    public void Mlp_builds_named_layers_with_hidden_and_output_activations()
    {
        var network = Sequential<double>.Mlp([3, 5, 4, 2], Activation.Tanh, Activation.Sigmoid);

        Assert.Equal(3, network.Layers.Count);
        var layers = network.Layers.Cast<Dense<double>>().ToList();
        Assert.Equal([Activation.Tanh, Activation.Tanh, Activation.Sigmoid], layers.Select(l => l.Activation));
        Assert.Equal([(3, 5), (5, 4), (4, 2)], layers.Select(l => (l.Inputs, l.Outputs)));
        Assert.Equal(["layer0.weight", "layer0.bias", "layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias"],
            network.Parameters().Select(p => p.Name));
        Assert.Equal((3 * 5) + 5 + (5 * 4) + 4 + (4 * 2) + 2, network.ParameterCount());
        Assert.Equal("Dense(3 → 5, Tanh) → Dense(5 → 4, Tanh) → Dense(4 → 2, Sigmoid)", network.Describe());
    }

    [Fact]
    public void Element_names_follow_the_layer_and_position()
    {
        var network = Sequential<double>.Mlp([2, 3, 1], Activation.Relu);

        var names = network.Elements().Select(e => e.Name).ToList();

        Assert.Equal(13, names.Count);
        Assert.Equal("layer0.weight[0,0]", names[0]);
        Assert.Equal("layer0.weight[1,2]", names[5]);
        Assert.Equal("layer0.bias[2]", names[8]);
        Assert.Equal("layer1.weight[2,0]", names[11]);
        Assert.Equal("layer1.bias[0]", names[12]);
        Assert.Equal(names.Count, names.Distinct().Count());

        var element = network.Element("layer0.weight[1,2]");
        element.Value = 4.5;
        Assert.Equal(4.5, ((Dense<double>)network.Layers[0]).Weight[1, 2]);
    }

    [Fact]
    public void Forward_applies_the_layers_in_order()
    {
        var rng = new Rng(3);
        var network = Sequential<double>.Mlp([3, 4, 2], Activation.Tanh);
        new XavierInitializer(5).Initialize(network);
        var x = Random(rng, 6, 3);

        var y = network.Forward(x);
        var byHand = network.Layers[1].Forward(network.Layers[0].Forward(x));

        Assert.Equal(new Shape(6, 2), y.Shape);
        Assert.Equal(byHand.ToDoubleArray(), y.ToDoubleArray());
    }

    [Fact]
    public void Predict_records_nothing_for_backpropagation()
    {
        var network = Sequential<double>.Mlp([2, 3, 1], Activation.Tanh);

        var recorded = network.Forward(Tensor<double>.Zeros(4, 2));
        var predicted = network.Predict(Tensor<double>.Zeros(4, 2));

        Assert.True(recorded.RequiresGrad);
        Assert.False(predicted.RequiresGrad);
        Assert.True(predicted.IsLeaf);
        Assert.True(GradMode.IsEnabled);
    }

    [Fact]
    public void A_deeper_network_has_the_gradients_of_finite_differences()
    {
        var rng = new Rng(17);
        var network = Sequential<double>.Mlp([3, 5, 4, 2], Activation.Tanh);
        new StandardNormalInitializer(23).Initialize(network);
        foreach (var p in network.Layers.Cast<Dense<double>>().Select(l => l.Bias))
        {
            for (var i = 0; i < p.Length; i++)
            {
                p[i] = rng.NextUniform(-0.5, 0.5);
            }
        }
        var x = Random(rng, 6, 3);
        var observed = Random(rng, 6, 2);
        var loss = new MeanSquaredError();

        var comparisons = GradientCheck.Compare(() => loss.Compute(network.Forward(x), observed), [.. network.Parameters()]);

        Assert.Equal(network.ParameterCount(), comparisons.Count);
        Assert.Contains(comparisons, c => Math.Abs(c.Backprop) > 1e-2);
        foreach (var c in comparisons)
        {
            Assert.True(c.RelativeError < 1e-7, $"{c.Name}: backprop {c.Backprop:R}, numerical {c.Numerical:R}");
        }
    }

    [Fact]
    public void ZeroGrad_clears_every_gradient()
    {
        var network = Sequential<double>.Mlp([2, 3, 1], Activation.SoftPlus);
        new StandardNormalInitializer(1).Initialize(network);
        new SumSquaredResiduals().Compute(network.Forward(Tensor<double>.FromRows([[1, 2], [3, 4]])), Tensor<double>.FromRows([[1], [0]])).Backward();
        Assert.Contains(network.Elements(), e => e.Gradient != 0);

        network.ZeroGrad();

        Assert.All(network.Elements(), e => Assert.Equal(0, e.Gradient));
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 3 })]
    public void Mlp_needs_inputs_and_outputs(int[] sizes)
    {
        var e = Assert.Throws<BackpropException>(() => Sequential<double>.Mlp(sizes, Activation.Relu));
        Assert.Contains("at least two layer sizes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { 2, 0, 1 }, "2,0,1")]
    [InlineData(new[] { 2, 3, -1 }, "2,3,-1")]
    public void Mlp_rejects_sizes_that_are_not_positive(int[] sizes, string shown)
    {
        var e = Assert.Throws<BackpropException>(() => Sequential<double>.Mlp(sizes, Activation.Relu));
        Assert.Contains("positive", e.Message, StringComparison.Ordinal);
        Assert.Contains(shown, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_network_needs_a_layer()
        => Assert.Throws<ArgumentException>(() => new Sequential<double>());

    [Fact]
    public void An_unknown_element_name_lists_the_names_there_are()
    {
        var network = Lesson.CreateNetwork<double>();

        var e = Assert.Throws<BackpropException>(() => network.Element("w9"));

        Assert.Equal("The network has no parameter named 'w9' (it has w1, w2, b1, b2, w3, w4, b3).", e.Message);
    }

    [Fact]
    public void A_long_list_of_names_is_cut_after_ten()
    {
        var network = Sequential<double>.Mlp([3, 4, 1], Activation.Relu);

        var e = Assert.Throws<BackpropException>(() => network.Element("layer9.weight[0,0]"));

        Assert.Contains("'layer9.weight[0,0]'", e.Message, StringComparison.Ordinal);
        Assert.Contains("layer0.weight[0,0], layer0.weight[0,1]", e.Message, StringComparison.Ordinal);
        Assert.Contains("layer0.weight[2,1], …)", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("layer1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainOnly_freezes_every_other_number()
    {
        var network = Lesson.CreateNetwork<double>();

        network.TrainOnly(["w3", "b3"]);

        Assert.Equal(["w3", "b3"], network.Elements().Where(e => e.IsTrainable).Select(e => e.Name));
    }

    [Fact]
    public void TrainOnly_with_an_unknown_name_changes_nothing()
    {
        var network = Lesson.CreateNetwork<double>();
        network.TrainOnly(["b3"]);

        Assert.Throws<BackpropException>(() => network.TrainOnly(["w1", "w7"]));

        Assert.Equal(["b3"], network.Elements().Where(e => e.IsTrainable).Select(e => e.Name));
    }
}
