using Backprop.Autograd;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>The dropout operation: its derivative with a fixed mask, its scaling, fresh masks on replay, bad probabilities.</summary>
public sealed class DropoutOpTests
{
    [Theory]
    [InlineData(new[] { 7 }, 0.5)]
    [InlineData(new[] { 4, 6 }, 0.3)]
    [InlineData(new[] { 2, 3, 2, 2 }, 0.1)]
    public void The_gradient_matches_finite_differences_with_a_fixed_mask(int[] shape, double p)
    {
        var rng = new Rng(21);
        var x = Uniform(rng, -2, 2, shape, requiresGrad: true, name: "x");

        // A new generator with the same seed on every evaluation: the same mask each time.
        AssertGradientsMatch(WeightedSum(rng, () => x.Dropout(p, new Rng(99))), x);
    }

    [Fact]
    public void Kept_elements_are_scaled_by_one_over_the_keep_rate_and_the_rest_are_zero()
    {
        var x = Uniform(new Rng(2), 0.5, 1.5, [20, 10]);

        var y = x.Dropout(0.2, new Rng(4));

        var draws = new Rng(4);
        for (var i = 0; i < x.Length; i++)
        {
            Assert.Equal(draws.NextDouble() < 0.2 ? 0 : x[i] * (1 / 0.8), y[i]);
        }
        Assert.Contains(y.ToDoubleArray(), v => v == 0);
    }

    [Fact]
    public void A_replayed_graph_draws_a_new_mask_each_time_without_allocating()
    {
        var x = Uniform(new Rng(3), 1, 2, [8, 16], requiresGrad: true);
        var generator = new Rng(8);
        var graph = new Graph<double>(x.Dropout(0.5, generator).Sum());
        var first = graph.Root.Item();
        graph.Forward();
        graph.Backward();

        x.ZeroGrad();
        var before = GC.GetAllocatedBytesForCurrentThread();
        graph.Forward();
        graph.Backward();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.NotEqual(first, graph.Root.Item());
        Assert.Equal(0, allocated);
        // The gradient is the mask of the last forward pass: 0 or 2.
        Assert.All(x.Grad!.ToDoubleArray(), g => Assert.True(g is 0 or 2, $"gradient {g}"));
    }

    [Fact]
    public void The_same_generator_state_gives_the_same_masks()
    {
        var x = Uniform(new Rng(3), 1, 2, [50]);
        Assert.Equal(x.Dropout(0.5, new Rng(8)).ToDoubleArray(), x.Dropout(0.5, new Rng(8)).ToDoubleArray());
        Assert.NotEqual(x.Dropout(0.5, new Rng(8)).ToDoubleArray(), x.Dropout(0.5, new Rng(9)).ToDoubleArray());
    }

    [Theory]
    [InlineData(1.0, "The dropout probability must be at least 0 and below 1; got 1.")]
    [InlineData(-0.25, "The dropout probability must be at least 0 and below 1; got -0.25.")]
    [InlineData(double.NaN, "The dropout probability must be at least 0 and below 1; got NaN.")]
    [InlineData(double.PositiveInfinity, "The dropout probability must be at least 0 and below 1; got Infinity.")]
    public void A_probability_outside_0_to_1_is_refused_in_one_line(double p, string message)
    {
        var x = Tensor<double>.Zeros(2, 2);
        var e = Assert.Throws<BackpropException>(() => x.Dropout(p, new Rng(1)));
        Assert.Equal(message, e.Message);
    }
}
