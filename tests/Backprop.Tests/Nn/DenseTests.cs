using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Tests.Nn;

public sealed class DenseTests
{
    private static Tensor<double> Random(Rng rng, bool requiresGrad, params int[] shape)
    {
        var t = new Tensor<double>(new Shape(shape), requiresGrad);
        for (var i = 0; i < t.Length; i++)
        {
            t[i] = rng.NextUniform(-1.5, 1.5);
        }
        return t;
    }

    private static double Apply(Activation activation, double x) => activation.Name switch
    {
        "identity" => x,
        "softplus" => Math.Log(1 + Math.Exp(x)),
        "relu" => Math.Max(x, 0),
        "sigmoid" => 1 / (1 + Math.Exp(-x)),
        "tanh" => Math.Tanh(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    // Weighted sums x·W + b by hand, [rows, outputs].
    private static double[] WeightedSums(Tensor<double> x, Dense<double> layer)
    {
        var rows = x.Shape[0];
        var z = new double[rows * layer.Outputs];
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < layer.Outputs; j++)
            {
                var sum = layer.Bias[j];
                for (var i = 0; i < layer.Inputs; i++)
                {
                    sum += x[r, i] * layer.Weight[i, j];
                }
                z[(r * layer.Outputs) + j] = sum;
            }
        }
        return z;
    }

    private static Dense<double> RandomLayer(Rng rng, int inputs, int outputs, Activation activation)
    {
        var layer = new Dense<double>(inputs, outputs, activation, "layer0");
        for (var i = 0; i < layer.Weight.Length; i++)
        {
            layer.Weight[i] = rng.NextUniform(-1, 1);
        }
        for (var i = 0; i < layer.Bias.Length; i++)
        {
            layer.Bias[i] = rng.NextUniform(-0.5, 0.5);
        }
        return layer;
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("softplus")]
    [InlineData("relu")]
    [InlineData("sigmoid")]
    [InlineData("tanh")]
    public void Forward_computes_the_activation_of_the_weighted_sums(string name)
    {
        var activation = Activations.Parse(name);
        var rng = new Rng(7);
        var layer = RandomLayer(rng, 3, 4, activation);
        var x = Random(rng, false, 5, 3);

        var y = layer.Forward(x);

        Assert.Equal(new Shape(5, 4), y.Shape);
        var z = WeightedSums(x, layer);
        for (var i = 0; i < z.Length; i++)
        {
            Assert.Equal(Apply(activation, z[i]), y[i], 1e-14);
        }
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("softplus")]
    [InlineData("relu")]
    [InlineData("sigmoid")]
    [InlineData("tanh")]
    public void Gradients_match_finite_differences(string name)
    {
        var activation = Activations.Parse(name);
        var rng = new Rng(11);
        var layer = RandomLayer(rng, 3, 4, activation);
        var x = Random(rng, true, 5, 3);
        var mix = Random(rng, false, 5, 4);
        // NOTE: ReLU has a kink at 0 where finite differences are meaningless; keep every weighted sum
        // far from it (a step of 1e-6 moves a sum by at most ~1e-5).
        Assert.True(WeightedSums(x, layer).Min(Math.Abs) > 1e-3, "a weighted sum is too close to the ReLU kink");

        var comparisons = GradientCheck.Compare(() => (layer.Forward(x) * mix).Sum(), [layer.Weight, layer.Bias, x]);

        Assert.Equal(12 + 4 + 15, comparisons.Count);
        Assert.Contains(comparisons, c => Math.Abs(c.Backprop) > 1e-3);
        foreach (var c in comparisons)
        {
            Assert.True(c.RelativeError < 1e-7, $"{c.Name}: backprop {c.Backprop:R}, numerical {c.Numerical:R}");
        }
    }

    [Fact]
    public void A_wrong_input_width_names_the_layer_and_the_shape()
    {
        var layer = new Dense<double>(3, 2, name: "layer4");

        var e = Assert.Throws<BackpropException>(() => layer.Forward(Tensor<double>.Zeros(5, 2)));

        Assert.Contains("layer4", e.Message, StringComparison.Ordinal);
        Assert.Contains("3 inputs", e.Message, StringComparison.Ordinal);
        Assert.Contains("[5, 2]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vector_input_is_rejected_with_its_shape()
    {
        var layer = new Dense<double>(3, 2, name: "layer0");

        var e = Assert.Throws<BackpropException>(() => layer.Forward(Tensor<double>.Zeros(3)));

        Assert.Contains("layer0", e.Message, StringComparison.Ordinal);
        Assert.Contains("[3]", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(2, 0)]
    [InlineData(-1, 2)]
    public void Sizes_must_be_positive(int inputs, int outputs)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new Dense<double>(inputs, outputs));

    [Fact]
    public void Parameters_are_named_after_the_layer()
    {
        var layer = new Dense<double>(2, 3, Activation.Tanh, "layer0");

        Assert.Equal(["layer0.weight", "layer0.bias"], layer.Parameters().Select(p => p.Name));
        Assert.Equal(new Shape(2, 3), layer.Weight.Shape);
        Assert.Equal(new Shape(3), layer.Bias.Shape);
        Assert.Equal("layer0.weight[1,2]", layer.Weight.ElementNames[5]);
        Assert.Equal("layer0.bias[2]", layer.Bias.ElementNames[2]);
        Assert.Equal(9, layer.ParameterCount());

        layer.SetName("layer7");

        Assert.Equal("layer7", layer.Name);
        Assert.Equal("layer7.weight[0,1]", layer.Weight.ElementNames[1]);
        Assert.Equal("layer7.bias[0]", layer.Bias.ElementNames[0]);
    }

    [Fact]
    public void A_new_layer_is_zero_and_describes_itself()
    {
        var layer = new Dense<float>(4, 2, Activation.Relu);

        Assert.All(layer.Weight.ToDoubleArray(), w => Assert.Equal(0, w));
        Assert.Equal("Dense(4 → 2, ReLU)", layer.Describe());
    }

    [Theory]
    [InlineData("softplus", "softplus")]
    [InlineData("ReLU", "relu")]
    [InlineData(" tanh ", "tanh")]
    [InlineData("Sigmoid", "sigmoid")]
    [InlineData("identity", "identity")]
    public void Activation_names_are_read_ignoring_case(string name, string expected)
        => Assert.Same(LayerRegistry.Find(expected), Activations.Parse(name));

    [Theory]
    [InlineData("gelu")]
    [InlineData("7")]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("softplus,relu")]
    public void Unknown_activation_names_list_the_choices(string name)
    {
        var e = Assert.Throws<BackpropException>(() => Activations.Parse(name));
        Assert.Contains($"'{name}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("softplus, relu, sigmoid, tanh, identity", e.Message, StringComparison.Ordinal);
    }
}
