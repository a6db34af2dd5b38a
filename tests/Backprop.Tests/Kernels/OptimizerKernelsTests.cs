using System.Numerics;
using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The optimizer kernels (Adam, momentum) at every length from 0 to 150 (every vector width and tail), float and
/// double, bit for bit against the scalar rules written out here; NaN steps; bad spans. .ci/run
/// repeats these with AVX-512, AVX2 and all SIMD switched off.
/// </summary>
public sealed class OptimizerKernelsTests
{
    public static TheoryData<int> Lengths() => [.. Enumerable.Range(0, 151)];

    private static T[] Random<T>(int length, Rng rng, double low, double high) where T : IFloatingPointIeee754<T>
        => [.. Enumerable.Range(0, length).Select(_ => T.CreateChecked(rng.NextUniform(low, high)))];

    private static void AssertBits<T>(T[] expected, T[] actual, string what) where T : IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i].Equals(actual[i]) || (T.IsNaN(expected[i]) && T.IsNaN(actual[i])),
                $"{what}[{i}] of {expected.Length}: expected {expected[i]}, got {actual[i]}");
        }
    }

    private static void AdamMatchesTheScalarRule<T>(int n, double weightDecay) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng((ulong)(1000 + n));
        var values = Random<T>(n, rng, -1, 1);
        var gradients = Random<T>(n, rng, -3, 3);
        var m = Random<T>(n, rng, -0.5, 0.5);
        var v = Random<T>(n, rng, 0, 2);
        var k = AdamCoefficients<T>.Create(0.001, 0.9, 0.999, 1e-8, 7, weightDecay);
        T lr = k.LearningRate, b1 = k.Beta1, b2 = k.Beta2, eps = k.Epsilon, c1 = k.C1, c2 = k.C2;

        T[] x2 = [.. values], m2 = [.. m], v2 = [.. v];
        var expectedLargest = T.Zero;
        for (var i = 0; i < n; i++)
        {
            m2[i] = (b1 * m2[i]) + (k.OneMinusBeta1 * gradients[i]);
            v2[i] = (b2 * v2[i]) + (k.OneMinusBeta2 * gradients[i] * gradients[i]);
            var step = lr * (m2[i] / c1) / (T.Sqrt(v2[i] / c2) + eps);
            x2[i] = (x2[i] * k.Decay) - step;
            expectedLargest = T.Max(expectedLargest, T.Abs(step));
        }

        var largest = OptimizerKernels.Adam<T>(values, gradients, m, v, k);
        AssertBits(x2, values, "values");
        AssertBits(m2, m, "first moments");
        AssertBits(v2, v, "second moments");
        Assert.Equal(expectedLargest, largest);
    }

    private static void MomentumMatchesTheScalarRule<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng((ulong)(2000 + n));
        var values = Random<T>(n, rng, -1, 1);
        var gradients = Random<T>(n, rng, -3, 3);
        var velocities = Random<T>(n, rng, -1, 1);
        T lr = T.CreateChecked(0.05), mu = T.CreateChecked(0.9);

        T[] x2 = [.. values], v2 = [.. velocities];
        var expectedLargest = T.Zero;
        for (var i = 0; i < n; i++)
        {
            v2[i] = (mu * v2[i]) + gradients[i];
            var step = lr * v2[i];
            x2[i] -= step;
            expectedLargest = T.Max(expectedLargest, T.Abs(step));
        }

        var largest = OptimizerKernels.Momentum<T>(values, gradients, velocities, lr, mu);
        AssertBits(x2, values, "values");
        AssertBits(v2, velocities, "velocities");
        Assert.Equal(expectedLargest, largest);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Adam_gives_the_scalar_rules_bits_at_every_length(int n)
    {
        AdamMatchesTheScalarRule<float>(n, 0);
        AdamMatchesTheScalarRule<double>(n, 0);
        AdamMatchesTheScalarRule<float>(n, 0.5);
        AdamMatchesTheScalarRule<double>(n, 0.5);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Momentum_gives_the_scalar_rules_bits_at_every_length(int n)
    {
        MomentumMatchesTheScalarRule<float>(n);
        MomentumMatchesTheScalarRule<double>(n);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(40, 3)]
    [InlineData(40, 39)]
    [InlineData(67, 64)]
    public void A_NaN_gradient_anywhere_makes_the_largest_step_NaN(int n, int at)
    {
        foreach (var rule in new[] { "Adam", "momentum" })
        {
            var values = new float[n];
            var gradients = Enumerable.Repeat(0.5f, n).ToArray();
            gradients[at] = float.NaN;
            var largest = rule switch
            {
                "Adam" => OptimizerKernels.Adam<float>(values, gradients, new float[n], new float[n], AdamCoefficients<float>.Create(0.1, 0.9, 0.999, 1e-8, 1)),
                _ => OptimizerKernels.Momentum<float>(values, gradients, new float[n], 0.1f, 0.9f),
            };
            Assert.True(float.IsNaN(largest), $"{rule}: largest step {largest}");
            Assert.True(float.IsNaN(values[at]));
            if (n > 1)
            {
                var other = values[at == 0 ? n - 1 : 0];
                Assert.True(float.IsFinite(other) && other < 0, $"a number with a finite gradient became {other}");
            }
        }
    }

    [Fact]
    public void Adam_constants_are_computed_in_double_and_then_rounded()
    {
        var k = AdamCoefficients<float>.Create(0.001, 0.9, 0.999, 1e-8, 3, weightDecay: 0.01);
        // 1 − β₂ from β₂ rounded to float first is 1.3e-5 off (relative); computed in double and then rounded it is the float nearest 0.001.
        Assert.Equal((float)0.001, k.OneMinusBeta2);
        Assert.NotEqual(1f - 0.999f, k.OneMinusBeta2);
        Assert.True(Math.Abs((1f - 0.999f - 0.001) / 0.001) > 1e-5);
        Assert.Equal((float)0.1, k.OneMinusBeta1);
        Assert.Equal((float)(1 - Math.Pow(0.999, 3)), k.C2);
        Assert.Equal((float)(1 - Math.Pow(0.9, 3)), k.C1);
        Assert.Equal((float)(1 - (0.001 * 0.01)), k.Decay);
        Assert.Equal(1f, AdamCoefficients<float>.Create(0.001, 0.9, 0.999, 1e-8, 3).Decay);
    }

    [Fact]
    public void Spans_of_different_lengths_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => OptimizerKernels.Adam<double>(new double[4], new double[4], new double[4], new double[3], AdamCoefficients<double>.Create(1, 0.9, 0.999, 1e-8, 1)));
        Assert.Contains("same length", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => OptimizerKernels.Momentum<double>(new double[4], new double[5], new double[4], 1, 0.9));
        Assert.Contains("same length", e.Message, StringComparison.Ordinal);
    }
}
