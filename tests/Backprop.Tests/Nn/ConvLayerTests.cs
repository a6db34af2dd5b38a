using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Nn;

/// <summary>
/// The image layers as modules: Conv2d, MaxPool2d, AvgPool2d, GlobalAvgPool and Flatten in a
/// Sequential — shapes, names, descriptions, initialisation, a whole-network gradient check and the
/// messages for inputs that do not fit.
/// </summary>
public sealed class ConvLayerTests
{
    /// <summary>A small network of every image layer, ending in class scores.</summary>
    private static Sequential<double> SmallCnn(int seed)
    {
        var network = new Sequential<double>(
            new Conv2d<double>(2, 3, 3, padding: 1, activation: Activation.Relu),
            new MaxPool2d<double>(2),
            new Conv2d<double>(3, 4, 3, stride: 1, padding: 1),
            new ActivationLayer<double>(Activation.Tanh),
            new AvgPool2d<double>(2, 1),
            new Flatten<double>(),
            new Dense<double>(4 * 2 * 2, 3));
        new HeInitializer((ulong)seed).Initialize(network);
        foreach (var p in network.Parameters().Where(p => p.Name!.EndsWith(".bias", StringComparison.Ordinal)))
        {
            var rng = new Rng((ulong)seed + 1);
            for (var i = 0; i < p.Length; i++)
            {
                p.Data[i] = rng.NextUniform(-0.3, 0.3);
            }
        }
        return network;
    }

    [Fact]
    public void A_sequential_cnn_gives_class_scores_per_image()
    {
        var network = SmallCnn(1);
        var x = Uniform(new Rng(2), 0, 1, [5, 2, 6, 6]);

        Assert.Equal(new Shape(5, 3), network.Forward(x).Shape);
        Assert.Equal((2 * 3 * 9) + 3 + (3 * 4 * 9) + 4 + (16 * 3) + 3, network.ParameterCount());
    }

    [Fact]
    public void Every_parameter_of_a_cnn_has_the_gradient_finite_differences_give()
    {
        var network = SmallCnn(3);
        var rng = new Rng(4);
        var x = Uniform(rng, 0, 1, [3, 2, 6, 6]);
        var labels = new Tensor<double>([0, 2, 1], new Shape(3));

        var rows = GradientCheck.Check(network, new CrossEntropy(), x, labels);

        Assert.Equal(network.ParameterCount(), rows.Count);
        Assert.Contains(rows, r => r.Numerical != 0 && r.Name.StartsWith("layer0.weight", StringComparison.Ordinal));
        var worst = rows.MaxBy(r => r.RelativeError);
        Assert.True(worst.RelativeError <= GradientTolerance, $"{worst.Name}: backprop {worst.Backprop:R}, finite difference {worst.Numerical:R}");
    }

    [Fact]
    public void Global_average_pooling_ends_a_network_without_flatten()
    {
        var network = new Sequential<double>(new Conv2d<double>(1, 4, 3, activation: Activation.Tanh), new GlobalAvgPool<double>(), new Dense<double>(4, 2));
        new XavierInitializer(5).Initialize(network);
        var x = Uniform(new Rng(6), 0, 1, [2, 1, 5, 5]);

        var rows = GradientCheck.Check(network, new CrossEntropy(), x, new Tensor<double>([1, 0], new Shape(2)));

        Assert.True(rows.Max(r => r.RelativeError) <= GradientTolerance);
    }

    [Fact]
    public void Conv2d_parameters_are_named_by_layer_and_full_index()
    {
        var network = SmallCnn(1);

        Assert.Equal("layer0.weight", network.Parameters().First().Name);
        Assert.Equal("layer0.weight[2,1,0,2]", network.Element("layer0.weight[2,1,0,2]").Name);
        Assert.Equal("layer2.bias[3]", network.Elements().Single(e => e.Name == "layer2.bias[3]").Name);
    }

    [Fact]
    public void Layers_describe_themselves()
    {
        Assert.Equal("Conv2d(1 → 32, 3×3, padding 1, ReLU)", new Conv2d<float>(1, 32, 3, padding: 1, activation: Activation.Relu).Describe());
        Assert.Equal("Conv2d(3 → 8, 5×5, stride 2, no bias)", new Conv2d<float>(3, 8, 5, stride: 2, bias: false).Describe());
        Assert.Equal("MaxPool2d(2×2)", new MaxPool2d<float>(2).Describe());
        Assert.Equal("AvgPool2d(3×3, stride 1)", new AvgPool2d<float>(3, 1).Describe());
        Assert.Equal("GlobalAvgPool", new GlobalAvgPool<float>().Describe());
        Assert.Equal("Flatten", new Flatten<float>().Describe());
    }

    [Fact]
    public void A_conv2d_without_bias_has_only_weights()
    {
        var layer = new Conv2d<double>(2, 3, 3, bias: false);

        Assert.Null(layer.Bias);
        Assert.Equal(["conv.weight"], layer.Parameters().Select(p => p.Name!));
    }

    [Fact]
    public void He_initialisation_of_a_conv2d_uses_fan_in_c_k_k()
    {
        // 64 × 32 × 3 × 3 = 18,432 draws from N(0, 2/288): standard deviation 1/12.
        var layer = new Conv2d<double>(32, 64, 3, padding: 1);
        layer.Bias!.Data.Fill(7);

        new HeInitializer(9).Initialize(new Sequential<double>(layer));

        var w = layer.Weight.ToDoubleArray();
        var mean = w.Average();
        var std = Math.Sqrt(w.Sum(v => (v - mean) * (v - mean)) / (w.Length - 1));
        Assert.InRange(mean, -0.003, 0.003);
        Assert.InRange(std, (1 / 12.0) * 0.98, (1 / 12.0) * 1.02);
        Assert.All(layer.Bias.ToDoubleArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Xavier_initialisation_of_a_conv2d_uses_fan_in_and_fan_out()
    {
        var layer = new Conv2d<double>(4, 6, 5);

        new XavierInitializer(10).Initialize(new Sequential<double>(layer));

        var limit = Math.Sqrt(6.0 / ((4 * 25) + (6 * 25)));
        Assert.All(layer.Weight.ToDoubleArray(), v => Assert.InRange(v, -limit, limit));
        Assert.True(layer.Weight.ToDoubleArray().Max() > limit * 0.95);
    }

    [Theory]
    [InlineData(new[] { 4, 9 }, "Layer layer0 takes images [batch, 2, height, width]; it was given shape [4, 9].")]
    [InlineData(new[] { 4, 3, 5, 5 }, "Layer layer0 takes images [batch, 2, height, width]; it was given shape [4, 3, 5, 5].")]
    public void Conv2d_given_the_wrong_input_names_the_layer_and_the_shape(int[] shape, string message)
    {
        var network = new Sequential<double>(new Conv2d<double>(2, 3, 3));

        var e = Assert.Throws<BackpropException>(() => network.Forward(new Tensor<double>(new Shape(shape))));

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Conv2d_on_images_smaller_than_its_kernel_says_so()
    {
        var network = new Sequential<double>(new Conv2d<double>(1, 3, 5, padding: 1));

        var e = Assert.Throws<BackpropException>(() => network.Forward(new Tensor<double>(new Shape(1, 1, 2, 6))));

        Assert.Equal("Layer layer0: a 5×5 kernel does not fit images of 2×6 with padding 1.", e.Message);
    }

    [Fact]
    public void Pooling_and_flatten_given_the_wrong_input_say_what_they_take()
    {
        var matrix = new Tensor<double>(new Shape(4, 9));
        var small = new Tensor<double>(new Shape(1, 1, 1, 3));

        Assert.Equal("MaxPool2d takes images [batch, channels, height, width]; it was given shape [4, 9].",
            Assert.Throws<BackpropException>(() => new MaxPool2d<double>(2).Forward(matrix)).Message);
        Assert.Equal("AvgPool2d: a 2×2 window does not fit images of 1×3.",
            Assert.Throws<BackpropException>(() => new AvgPool2d<double>(2).Forward(small)).Message);
        Assert.Equal("GlobalAvgPool takes images [batch, channels, height, width]; it was given shape [4, 9].",
            Assert.Throws<BackpropException>(() => new GlobalAvgPool<double>().Forward(matrix)).Message);
        Assert.Equal("Flatten takes a batch of examples [batch, …]; it was given shape [9].",
            Assert.Throws<BackpropException>(() => new Flatten<double>().Forward(new Tensor<double>(new Shape(9)))).Message);
    }

    [Theory]
    [InlineData(0, 3, 3, 1, 0)]
    [InlineData(1, 0, 3, 1, 0)]
    [InlineData(1, 3, 0, 1, 0)]
    [InlineData(1, 3, 3, 0, 0)]
    [InlineData(1, 3, 3, 1, -1)]
    public void Conv2d_sizes_below_1_or_negative_padding_are_refused(int inChannels, int outChannels, int kernel, int stride, int padding)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d<double>(inChannels, outChannels, kernel, stride, padding));
    }

    [Fact]
    public void Pooling_sizes_below_1_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaxPool2d<double>(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AvgPool2d<double>(2, 0));
    }
}
