using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Nn;

/// <summary>The Dropout layer: active only in training, seeded, named, checked.</summary>
public sealed class DropoutTests
{
    [Fact]
    public void In_evaluation_the_input_passes_unchanged_and_nothing_is_drawn()
    {
        var dropout = new Dropout<double>(0.5, 3);
        var x = Uniform(new Rng(1), -1, 1, [4, 5]);
        var state = dropout.Generator.State;

        dropout.Eval();
        Assert.Same(x, dropout.Forward(x));
        Assert.Equal(state, dropout.Generator.State);
    }

    [Fact]
    public void In_training_it_drops_with_its_own_generator()
    {
        var x = Uniform(new Rng(1), 1, 2, [4, 5]);

        var y = new Dropout<double>(0.5, new Rng(3)).Forward(x);

        Assert.Equal(x.Dropout(0.5, new Rng(3)).ToDoubleArray(), y.ToDoubleArray());
        Assert.Contains(y.ToDoubleArray(), v => v == 0);
        Assert.Same(x, new Dropout<double>(0, 3).Forward(x));
    }

    [Fact]
    public void Its_generator_is_named_after_its_layer_and_it_describes_itself()
    {
        var network = new Sequential<double>(new Dense<double>(2, 4), new Dropout<double>(0.25, 1), new Dense<double>(4, 1));

        Assert.Equal(["layer1.generator"], network.Generators().Select(g => g.Key));
        Assert.Equal("Dense(2 → 4, Identity) → Dropout(p = 0.25) → Dense(4 → 1, Identity)", network.Describe());
        Assert.Equal(4, network.Parameters().Count());
    }

    [Theory]
    [InlineData(1.0, "The dropout probability must be at least 0 and below 1; got 1.")]
    [InlineData(-0.5, "The dropout probability must be at least 0 and below 1; got -0.5.")]
    public void A_probability_outside_0_to_1_is_refused_in_one_line(double p, string message)
    {
        var e = Assert.Throws<BackpropException>(() => new Dropout<float>(p, 1));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_gradient_check_of_a_training_network_sees_one_mask_and_leaves_the_generator_as_it_was()
    {
        var rng = new Rng(5);
        var network = new Sequential<double>(new Dense<double>(3, 6, Activation.Tanh), new Dropout<double>(0.4, 8), new Dense<double>(6, 2));
        new XavierInitializer(5).Initialize(network);
        var x = Uniform(rng, -1, 1, [5, 3]);
        var y = Uniform(rng, -1, 1, [5, 2]);
        var generator = ((Dropout<double>)network.Layers[1]).Generator;
        var state = generator.State;

        var rows = GradientCheck.Check(network, new MeanSquaredError(), x, y);

        Assert.True(rows.Max(r => r.RelativeError) <= GradientTolerance, $"worst {rows.MaxBy(r => r.RelativeError)}");
        Assert.Contains(rows, r => r.Numerical != 0);
        Assert.Equal(state, generator.State);
    }
}
