using System.Numerics;
using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The batch-norm kernels at every length from 0 to 300 (every vector width and tail), in place where
/// allowed, against the formulas in double; the reductions give the same bits on every call whatever
/// the span's offset in memory. .ci/run repeats these with AVX-512, AVX2 and all SIMD switched off.
/// </summary>
public sealed class BatchNormKernelsTests
{
    public static TheoryData<int> Lengths() => [.. Enumerable.Range(0, 301)];

    private static double[] Values(int length, int seed, double offset = 0)
    {
        var rng = new Rng((ulong)seed);
        return [.. Enumerable.Range(0, length).Select(_ => offset + rng.NextUniform(-2, 2))];
    }

    private static T[] As<T>(double[] values) where T : IFloatingPointIeee754<T> => [.. values.Select(T.CreateChecked)];

    // A sum of n terms in any order is off by at most (n − 1)·u·Σ|termᵢ| (Higham); the double
    // reference is off by as much again when T is double.
    private static void AssertSum<T>(double expected, T actual, double magnitudes, int n) where T : IFloatingPointIeee754<T>
    {
        var ulp = typeof(T) == typeof(float) ? 6e-8 : 1.2e-16;
        var a = double.CreateChecked(actual);
        Assert.True(Math.Abs(a - expected) <= 2 * (n + 1) * magnitudes * ulp, $"expected {expected:R}, got {a:R} (n = {n})");
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Sum_and_squared_deviations_match_the_formulas(int length)
    {
        Check<float>(length);
        Check<double>(length);

        static void Check<T>(int length) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = Values(length, length, offset: 3);
            var xs = As<T>(x);
            var exact = xs.Select(double.CreateChecked).ToArray();
            AssertSum(exact.Sum(), BatchNormKernels.Sum<T>(xs), exact.Sum(Math.Abs), length);
            var mean = T.CreateChecked(3.25);
            var squares = exact.Select(v => (v - 3.25) * (v - 3.25)).ToArray();
            AssertSum(squares.Sum(), BatchNormKernels.SumSquaredDeviations<T>(xs, mean), squares.Sum(), length);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Sum_and_dot_of_deviations_match_the_formulas(int length)
    {
        var x = Values(length, 1 + length);
        var dy = Values(length, 1000 + length);
        var (sum, dot) = BatchNormKernels.SumAndDotDeviations<double>(dy, x, 0.5);
        AssertSum(dy.Sum(), sum, dy.Sum(Math.Abs), length);
        var products = dy.Select((d, i) => d * (x[i] - 0.5)).ToArray();
        AssertSum(products.Sum(), dot, products.Sum(Math.Abs), length);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Normalize_and_the_input_gradient_match_the_formulas_in_both_types(int length)
    {
        Check<float>(length);
        Check<double>(length);

        static void Check<T>(int length) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = As<T>(Values(length, 2 + length));
            var dy = As<T>(Values(length, 3 + length));
            var start = As<T>(Values(length, 4 + length));
            T mean = T.CreateChecked(0.25), scale = T.CreateChecked(1.5), shift = T.CreateChecked(-0.5);
            T a = T.CreateChecked(0.75), b = T.CreateChecked(-0.125), c = T.CreateChecked(0.0625);

            var y = new T[length];
            BatchNormKernels.Normalize<T>(x, mean, scale, shift, y);
            var dx = (T[])start.Clone();
            BatchNormKernels.AddInputGradient<T>(dy, x, mean, a, b, c, dx);

            for (var i = 0; i < length; i++)
            {
                // The same formula in the same order in T: the vector lanes must give the scalar bits.
                Assert.Equal(((x[i] - mean) * scale) + shift, y[i]);
                Assert.Equal(start[i] + ((a * dy[i]) + (b * (x[i] - mean)) + c), dx[i]);
            }
            // In place.
            BatchNormKernels.Normalize<T>(x, mean, scale, shift, x);
            Assert.Equal(y, x);
        }
    }

    [Fact]
    public void A_sum_does_not_depend_on_where_the_span_starts_in_memory()
    {
        // The same 200 values at offsets 0 … 15 of larger arrays: the same lanes, so the same bits.
        var values = As<float>(Values(200, 9, offset: 1));
        var expected = BatchNormKernels.Sum<float>(values);
        var squares = BatchNormKernels.SumSquaredDeviations<float>(values, 1.1f);
        for (var offset = 0; offset < 16; offset++)
        {
            var host = new float[offset + 200 + 3];
            values.CopyTo(host, offset);
            Assert.Equal(expected, BatchNormKernels.Sum<float>(host.AsSpan(offset, 200)));
            Assert.Equal(squares, BatchNormKernels.SumSquaredDeviations<float>(host.AsSpan(offset, 200), 1.1f));
        }
    }

    [Fact]
    public void NaN_and_infinity_propagate()
    {
        var x = new double[40];
        x[17] = double.NaN;
        Assert.True(double.IsNaN(BatchNormKernels.Sum<double>(x)));
        x[17] = double.PositiveInfinity;
        Assert.Equal(double.PositiveInfinity, BatchNormKernels.Sum<double>(x));
        Assert.Equal(double.PositiveInfinity, BatchNormKernels.SumSquaredDeviations<double>(x, 0));
    }

    [Fact]
    public void Spans_of_different_lengths_are_refused_with_a_message()
    {
        var e = Assert.Throws<ArgumentException>(() => BatchNormKernels.Normalize<double>(new double[3], 0, 1, 0, new double[2]));
        Assert.Equal("The spans must have the same length; they have 3 and 2.", e.Message);
        Assert.Throws<ArgumentException>(() => BatchNormKernels.SumAndDotDeviations<double>(new double[3], new double[4], 0));
        Assert.Throws<ArgumentException>(() => BatchNormKernels.AddInputGradient<double>(new double[3], new double[3], 0, 1, 1, 1, new double[5]));
    }
}
