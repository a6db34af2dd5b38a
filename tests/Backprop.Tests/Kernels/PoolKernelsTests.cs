using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The pooling kernels at every plane width from 1 to 300, against the definitions in double, with
/// NaN and bad spans. .ci/run repeats these with AVX-512, AVX2 and all SIMD switched off.
/// </summary>
public sealed class PoolKernelsTests
{
    public static TheoryData<int> Widths() => [.. Enumerable.Range(1, 300)];

    private static double[] Draw(int length, int seed)
    {
        var rng = new Rng((ulong)seed);
        return [.. Enumerable.Range(0, length).Select(_ => rng.NextUniform(-1, 1))];
    }

    private static IEnumerable<PoolGeometry> GeometriesOfWidth(int width)
    {
        yield return new PoolGeometry(2, 4, width, 1, 1);
        if (width >= 2)
        {
            yield return new PoolGeometry(3, 4, width, 2, 2);
        }
        if (width >= 3)
        {
            yield return new PoolGeometry(1, 5, width, 3, 2);
            yield return new PoolGeometry(2, 3, width, 3, 1);
        }
    }

    private static IEnumerable<(int Output, int[] Window)> Windows(PoolGeometry g)
    {
        var o = 0;
        for (var p = 0; p < g.Planes; p++)
        {
            for (var oy = 0; oy < g.OH; oy++)
            {
                for (var ox = 0; ox < g.OW; ox++, o++)
                {
                    var window = new List<int>();
                    for (var i = 0; i < g.K; i++)
                    {
                        for (var j = 0; j < g.K; j++)
                        {
                            window.Add((((p * g.H) + (oy * g.Stride) + i) * g.W) + (ox * g.Stride) + j);
                        }
                    }
                    yield return (o, [.. window]);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Max_pooling_takes_the_largest_element_of_each_window_and_routes_the_gradient_there(int width)
    {
        foreach (var g in GeometriesOfWidth(width))
        {
            var x = Draw(g.InputLength, width);
            var y = new double[g.OutputLength];
            var argmax = new int[g.OutputLength];
            var dy = Draw(g.OutputLength, width + 1);
            var dx = new double[g.InputLength];
            var expectedDx = new double[g.InputLength];

            PoolKernels.MaxForward<double>(g, x, y, argmax);
            PoolKernels.MaxBackward<double>(dy, argmax, dx);

            foreach (var (o, window) in Windows(g))
            {
                var best = window.MaxBy(i => x[i]);
                Assert.Equal(x[best], y[o]);
                Assert.Equal(best, argmax[o]);
                expectedDx[best] += dy[o];
            }
            Assert.Equal(expectedDx, dx);
        }
    }

    // The first element of the window, in row order, that no later element replaces: a later element
    // replaces the best so far when the best is not NaN and the element is larger or NaN.
    private static int FirstMax(float[] x, int[] window)
    {
        var at = window[0];
        foreach (var i in window.Skip(1))
        {
            if (!float.IsNaN(x[at]) && (x[i] > x[at] || float.IsNaN(x[i])))
            {
                at = i;
            }
        }
        return at;
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Float_max_pooling_picks_the_first_of_equal_maxima_and_the_first_NaN_at_every_width(int width)
    {
        // Few distinct values, so windows hold ties; a NaN in about one element of 16 (the vector path
        // for 2×2 windows with stride 2 must choose as the scalar loop does).
        foreach (var g in new[] { new PoolGeometry(3, 4, width, 1, 1), new PoolGeometry(3, 5, width, 2, 2), new PoolGeometry(2, 6, width, 3, 2) }.Where(g => g.K <= width))
        {
            var rng = new Rng((ulong)width);
            var x = Enumerable.Range(0, g.InputLength).Select(_ => rng.NextInt(16) == 0 ? float.NaN : rng.NextInt(3) - 1f).ToArray();
            var y = new float[g.OutputLength];
            var argmax = new int[g.OutputLength];

            PoolKernels.MaxForward<float>(g, x, y, argmax);

            foreach (var (o, window) in Windows(g))
            {
                var expected = FirstMax(x, window);
                Assert.Equal(expected, argmax[o]);
                Assert.Equal(x[expected], y[o]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Average_pooling_is_the_mean_of_each_window_and_spreads_the_gradient_over_it(int width)
    {
        foreach (var g in GeometriesOfWidth(width))
        {
            var x = Draw(g.InputLength, width);
            var y = new double[g.OutputLength];
            var dy = Draw(g.OutputLength, width + 1);
            var dx = new double[g.InputLength];
            var expectedDx = new double[g.InputLength];

            PoolKernels.AverageForward<double>(g, x, y);
            PoolKernels.AverageBackward<double>(g, dy, dx);

            foreach (var (o, window) in Windows(g))
            {
                Assert.Equal(window.Sum(i => x[i]) / window.Length, y[o], 1e-15);
                foreach (var i in window)
                {
                    expectedDx[i] += dy[o] / window.Length;
                }
            }
            for (var i = 0; i < dx.Length; i++)
            {
                Assert.Equal(expectedDx[i], dx[i], 1e-15);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Global_average_pooling_is_the_mean_of_each_plane(int width)
    {
        var x = Draw(3 * width, width);
        var y = new double[3];
        var dy = new double[] { 0.5, -2, 3 };
        var dx = new double[3 * width];

        PoolKernels.GlobalAverageForward<double>(x, width, y);
        PoolKernels.GlobalAverageBackward<double>(dy, width, dx);

        for (var p = 0; p < 3; p++)
        {
            Assert.Equal(x.Skip(p * width).Take(width).Average(), y[p], 1e-14);
            for (var i = 0; i < width; i++)
            {
                Assert.Equal(dy[p] / width, dx[(p * width) + i], 1e-15);
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void A_NaN_anywhere_in_a_max_window_gives_NaN(int at)
    {
        var g = new PoolGeometry(1, 2, 2, 2, 2);
        var x = new float[] { 1, 2, 3, 4 };
        x[at] = float.NaN;
        var y = new float[1];
        var argmax = new int[1];

        PoolKernels.MaxForward<float>(g, x, y, argmax);

        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(at, argmax[0]);
    }

    [Fact]
    public void Too_short_spans_and_windows_that_do_not_fit_are_refused()
    {
        var g = new PoolGeometry(2, 4, 4, 2, 2);

        Assert.Throws<ArgumentException>(() => PoolKernels.MaxForward<double>(g, new double[31], new double[8], new int[8]));
        Assert.Throws<ArgumentException>(() => PoolKernels.MaxForward<double>(g, new double[32], new double[7], new int[8]));
        Assert.Throws<ArgumentException>(() => PoolKernels.MaxForward<double>(g, new double[32], new double[8], new int[7]));
        Assert.Throws<ArgumentException>(() => PoolKernels.AverageForward<double>(g with { K = 5 }, new double[32], new double[8]));
        Assert.Throws<ArgumentException>(() => PoolKernels.AverageBackward<double>(g, new double[8], new double[31]));
        Assert.Throws<ArgumentException>(() => PoolKernels.GlobalAverageForward<double>(new double[7], 4, new double[2]));
    }
}
