using Backprop.Nn;

namespace Backprop.Tests.Nn;

public sealed class InitializerTests
{
    private const int fanIn = 200;
    private const int fanOut = 300;

    private static Dense<double> InitializedLayer(Initializer initializer)
    {
        var layer = new Dense<double>(fanIn, fanOut);
        layer.Bias.Data.Fill(7);
        initializer.Initialize(new Sequential<double>(layer));
        return layer;
    }

    private static (double Mean, double Std) Moments(double[] values)
    {
        var mean = values.Average();
        var variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
        return (mean, Math.Sqrt(variance));
    }

    [Fact]
    public void Standard_normal_weights_have_mean_0_and_standard_deviation_1_and_biases_0()
    {
        var layer = InitializedLayer(new StandardNormalInitializer(1));

        // 60 000 draws: the standard error of the mean is 0.004, of the standard deviation 0.003.
        var (mean, std) = Moments(layer.Weight.ToDoubleArray());
        Assert.InRange(mean, -0.02, 0.02);
        Assert.InRange(std, 0.985, 1.015);
        Assert.All(layer.Bias.ToDoubleArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Xavier_weights_are_uniform_within_the_glorot_limit()
    {
        var layer = InitializedLayer(new XavierInitializer(2));
        var limit = Math.Sqrt(6.0 / (fanIn + fanOut));

        var weights = layer.Weight.ToDoubleArray();

        Assert.All(weights, w => Assert.InRange(w, -limit, limit));
        // Uniform on (−a, a): variance a²/3 = 2/(fan_in + fan_out); and it reaches near both ends.
        var (mean, std) = Moments(weights);
        Assert.InRange(mean, -0.002, 0.002);
        Assert.Equal(Math.Sqrt(2.0 / (fanIn + fanOut)), std, 0.001);
        Assert.True(weights.Max() > 0.99 * limit && weights.Min() < -0.99 * limit);
        Assert.All(layer.Bias.ToDoubleArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void He_weights_have_standard_deviation_sqrt_2_over_fan_in()
    {
        var layer = InitializedLayer(new HeInitializer(3));

        var (mean, std) = Moments(layer.Weight.ToDoubleArray());

        var expected = Math.Sqrt(2.0 / fanIn);
        Assert.InRange(mean, -0.002, 0.002);
        Assert.InRange(std, 0.985 * expected, 1.015 * expected);
        Assert.All(layer.Bias.ToDoubleArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Each_layer_draws_with_its_own_fan_in_and_fan_out()
    {
        var network = Sequential<double>.Mlp([1000, 20, 1000], Activation.Relu);

        new HeInitializer(4).Initialize(network);

        var first = Moments(((Dense<double>)network.Layers[0]).Weight.ToDoubleArray()).Std;
        var second = Moments(((Dense<double>)network.Layers[1]).Weight.ToDoubleArray()).Std;
        Assert.InRange(first, 0.97 * Math.Sqrt(2.0 / 1000), 1.03 * Math.Sqrt(2.0 / 1000));
        Assert.InRange(second, 0.97 * Math.Sqrt(2.0 / 20), 1.03 * Math.Sqrt(2.0 / 20));
    }

    [Theory]
    [InlineData("normal")]
    [InlineData("xavier")]
    [InlineData("he")]
    public void The_same_seed_gives_the_same_weights_and_another_seed_others(string name)
    {
        static double[] Draw(string name, ulong seed)
        {
            var network = Sequential<double>.Mlp([3, 5, 2], Activation.Tanh);
            Initializer.Create(name, seed).Initialize(network);
            return [.. network.Elements().Select(e => e.Value)];
        }

        var first = Draw(name, 42);
        var again = Draw(name, 42);
        var other = Draw(name, 43);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(25, first.Where(v => v != 0).Distinct().Count()); // 25 distinct weights beside 7 zero biases
    }

    [Fact]
    public void Float_networks_get_the_double_draws_rounded()
    {
        var single = Sequential<float>.Mlp([2, 3], Activation.Identity);
        var twice = Sequential<double>.Mlp([2, 3], Activation.Identity);

        new StandardNormalInitializer(9).Initialize(single);
        new StandardNormalInitializer(9).Initialize(twice);

        Assert.Equal(twice.Elements().Select(e => (float)e.Value), single.Elements().Select(e => e.Value));
    }

    [Theory]
    [InlineData("normal", typeof(StandardNormalInitializer), "normal")]
    [InlineData(" Xavier ", typeof(XavierInitializer), "xavier")]
    [InlineData("glorot", typeof(XavierInitializer), "xavier")]
    [InlineData("HE", typeof(HeInitializer), "he")]
    public void Initializers_are_created_by_name(string name, Type type, string canonical)
    {
        var initializer = Initializer.Create(name, 1);

        Assert.IsType(type, initializer);
        Assert.Equal(canonical, initializer.Name);
    }

    [Fact]
    public void An_unknown_initializer_name_lists_the_choices()
    {
        var e = Assert.Throws<BackpropException>(() => Initializer.Create("kaiming-uniform", 1));

        Assert.Contains("'kaiming-uniform'", e.Message, StringComparison.Ordinal);
        Assert.Contains("normal, xavier, he", e.Message, StringComparison.Ordinal);
    }
}
