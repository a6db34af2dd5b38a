using System.Numerics;
using Backprop.Kernels;
using Backprop.Tests.TestUtil;

namespace Backprop.Tests.Kernels;

/// <summary>
/// tanh′(x) = sech²x from the input (<see cref="ActivationKernels.TanhBackwardFromInput"/>, and kept by
/// <see cref="ActivationKernels.Tanh"/>): at every length 0..300, and where tanh saturates against a
/// 400-bit reference, where 1 − y² from the output would cancel. .ci/run repeats these with SIMD off.
/// </summary>
public sealed class TanhDerivativeTests
{
    public static TheoryData<int> Lengths() => [.. Enumerable.Range(0, 301)];

    private static T[] Inputs<T>(int length, ulong seed) where T : IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        return [.. Enumerable.Range(0, length).Select(i => T.CreateChecked((i % 3) switch
        {
            0 => rng.NextUniform(-0.25, 0.25),
            1 => rng.NextUniform(-4, 4),
            _ => rng.NextUniform(-30, 30),
        }))];
    }

    private static double Ulp<T>() => typeof(T) == typeof(float) ? 6e-8 : 1.2e-16;

    // sech²x in double from cosh: no cancellation, good to a few ulps of double (the reference for float
    // and for the all-lengths runs; the 400-bit reference below checks double itself).
    private static double Reference(double x) => 1 / (Math.Cosh(x) * Math.Cosh(x));

    [Theory]
    [MemberData(nameof(Lengths))]
    public void The_derivative_from_the_input_is_sech_squared_written_or_added_at_every_length(int length)
    {
        FromInput<double>(length);
        FromInput<float>(length);
    }

    private static void FromInput<T>(int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Inputs<T>(length, (ulong)length + 10);
        var dy = Inputs<T>(length, (ulong)length + 20);
        var start = Inputs<T>(length, (ulong)length + 30);
        var written = new T[length];
        ActivationKernels.TanhBackwardFromInput<T>(x, dy, written);
        var added = (T[])start.Clone();
        ActivationKernels.TanhBackwardFromInput<T>(x, dy, added, accumulate: true);
        var kept = new T[length];
        var y = new T[length];
        ActivationKernels.Tanh<T>(x, y, kept);
        var plain = new T[length];
        ActivationKernels.Tanh<T>(x, plain);
        var ones = Enumerable.Repeat(T.One, length).ToArray();
        var fromOnes = new T[length];
        ActivationKernels.TanhBackwardFromInput<T>(x, ones, fromOnes);
        for (var i = 0; i < length; i++)
        {
            var expected = double.CreateChecked(dy[i]) * Reference(double.CreateChecked(x[i]));
            var got = double.CreateChecked(written[i]);
            Assert.True(Math.Abs(got - expected) <= 12 * Ulp<T>() * Math.Abs(expected) + 1e-300, $"sech² at x = {x[i]} ({i} of {length}): {got:R} vs {expected:R}");
            Assert.Equal(written[i] + start[i], added[i]);
            // The derivative kept by the forward pass is the same bits, and keeping it changes nothing of y.
            Assert.Equal(fromOnes[i], kept[i]);
            Assert.Equal(plain[i], y[i]);
        }
    }

    [Fact]
    public void Saturated_tanh_keeps_its_derivative_to_a_few_ulps_from_1_to_20()
    {
        for (var x = 1; x <= 20; x++)
        {
            foreach (var sign in new[] { 1, -1 })
            {
                var reference = HighPrecision.SechSquared(sign * x, 1);
                double[] d = [0], one = [1], input = [sign * x];
                ActivationKernels.TanhBackwardFromInput<double>(input, one, d);
                Assert.True(Math.Abs(d[0] - reference) <= 6 * Ulp<double>() * reference, $"double sech²({sign * x}) = {d[0]:R}, reference {reference:R}");
                float[] f = [0], fOne = [1], fInput = [sign * x];
                ActivationKernels.TanhBackwardFromInput<float>(fInput, fOne, f);
                Assert.True(Math.Abs(f[0] - reference) <= 6 * Ulp<float>() * reference, $"float sech²({sign * x}) = {f[0]:R}, reference {reference:R}");
            }
        }
        // What the issue found: 1 − y² from y = tanh 10 in double is 7.6e-8 off.
        var y = Math.Tanh(10);
        Assert.True(Math.Abs((1 - (y * y)) - HighPrecision.SechSquared(10, 1)) / HighPrecision.SechSquared(10, 1) > 1e-8);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(300)]
    public void Tanh_with_its_derivative_works_in_place(int length)
    {
        var x = Inputs<double>(length, 5);
        var y = new double[length];
        var d = new double[length];
        ActivationKernels.Tanh<double>(x, y, d);
        var inPlace = (double[])x.Clone();
        var d2 = new double[length];
        ActivationKernels.Tanh<double>(inPlace, inPlace, d2);
        Assert.Equal(y, inPlace);
        Assert.Equal(d, d2);
    }

    [Fact]
    public void Special_values_give_the_derivatives_limits()
    {
        double[] x = [double.PositiveInfinity, double.NegativeInfinity, double.NaN, 0, -0.0, 400];
        var d = new double[x.Length];
        ActivationKernels.TanhBackwardFromInput<double>(x, Enumerable.Repeat(1.0, x.Length).ToArray(), d);
        Assert.Equal(0, d[0]);
        Assert.Equal(0, d[1]);
        Assert.True(double.IsNaN(d[2]));
        Assert.Equal(1, d[3]);
        Assert.Equal(1, d[4]);
        Assert.Equal(0, d[5]);
    }

    [Fact]
    public void A_derivative_span_that_overlaps_is_refused()
    {
        var x = new double[8];
        var e = Assert.Throws<ArgumentException>(() => ActivationKernels.Tanh<double>(x, new double[8], x.AsSpan()));
        Assert.StartsWith("The derivative destination must not overlap the input or the output.", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => ActivationKernels.TanhBackwardFromInput<double>(new double[4], new double[5], new double[5]));
        Assert.StartsWith("The inputs have different lengths (4 and 5).", e.Message, StringComparison.Ordinal);
    }
}
