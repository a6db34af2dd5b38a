using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Tensors;

namespace Backprop.Tests.Diagnostics;

/// <summary><see cref="GradientCheck.Check(Module{double}, Loss, Tensor{double}, Tensor{double}, int, ulong, double)"/>: a seeded sample of large parameters.</summary>
public sealed class GradientCheckSampleTests
{
    private static (Sequential<double> Network, Tensor<double> X, Tensor<double> Y) Conv()
    {
        var network = NetworkSpec.Parse("conv 3 3 tanh, maxpool 2, flatten, dense 2").Build<double>(new Shape(1, 6, 6));
        new XavierInitializer(4).Initialize(network);
        var rng = new Rng(9);
        var x = new Tensor<double>(new Shape(2, 1, 6, 6));
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = rng.NextNormal();
        }
        return (network, x, new Tensor<double>([1, 0], new Shape(2)));
    }

    [Fact]
    public void A_sample_checks_at_most_k_numbers_of_each_parameter_and_agrees_with_the_full_check()
    {
        var (network, x, y) = Conv();
        var full = GradientCheck.Check(network, new CrossEntropy(), x, y).ToDictionary(r => r.Name);

        var sample = GradientCheck.Check(network, new CrossEntropy(), x, y, samplePerParameter: 5, seed: 3);

        // weight 27 → 5, bias 3 → 3 (all), dense weight 24 → 5, dense bias 2 → 2.
        Assert.Equal(15, sample.Count);
        Assert.Equal(5, sample.Count(r => r.Name.StartsWith("layer0.weight", StringComparison.Ordinal)));
        Assert.Equal(["layer0.bias[0]", "layer0.bias[1]", "layer0.bias[2]"], sample.Where(r => r.Name.StartsWith("layer0.bias", StringComparison.Ordinal)).Select(r => r.Name));
        Assert.Equal(15, sample.Select(r => r.Name).Distinct().Count());
        foreach (var r in sample)
        {
            Assert.Equal(full[r.Name], r);
            Assert.True(r.RelativeError < 1e-6, $"{r.Name}: {r.RelativeError}");
        }
    }

    [Fact]
    public void The_same_seed_checks_the_same_numbers_and_another_seed_others()
    {
        var (network, x, y) = Conv();

        string[] Names(ulong seed) => [.. GradientCheck.Check(network, new CrossEntropy(), x, y, 5, seed).Select(r => r.Name)];

        Assert.Equal(Names(3), Names(3));
        Assert.NotEqual(Names(3), Names(4));
    }
}
