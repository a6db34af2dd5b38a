using System.Numerics;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>
/// Max, average and global average pooling: values against the definitions, derivatives against
/// central finite differences in double, and the messages for shapes that do not fit.
/// </summary>
public sealed class PoolOpTests
{
    // (batch, channels, height, width, kernel, stride)
    public static TheoryData<int[]> Geometries() => new()
    {
        new[] { 1, 1, 2, 2, 2, 2 },
        new[] { 2, 3, 4, 4, 2, 2 },
        new[] { 2, 2, 5, 7, 2, 2 },
        new[] { 1, 2, 5, 5, 3, 2 },
        new[] { 2, 1, 6, 5, 3, 1 },
        new[] { 1, 1, 7, 4, 1, 3 },
    };

    // Distinct values on a grid of 0.01 apart (shuffled): a max is never tied, and a step of 1e-6 never changes which element wins.
    internal static Tensor<double> Distinct(int[] shape, int seed)
    {
        var rng = new Rng((ulong)seed);
        var t = new Tensor<double>(new Shape(shape), requiresGrad: true) { Name = "x" };
        var values = Enumerable.Range(0, t.Length).Select(i => (i - (t.Length / 2.0)) * 0.01).ToArray();
        rng.Shuffle<double>(values);
        values.CopyTo(t.Data);
        return t;
    }

    private static double Window(Tensor<double> x, int[] g, int n, int c, int oy, int ox, Func<IEnumerable<double>, double> reduce)
    {
        var values = new List<double>();
        for (var i = 0; i < g[4]; i++)
        {
            for (var j = 0; j < g[4]; j++)
            {
                values.Add(x[(((n * g[1]) + c) * g[2] + (oy * g[5]) + i) * g[3] + (ox * g[5]) + j]);
            }
        }
        return reduce(values);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Max_and_average_pooling_values_match_the_definitions(int[] g)
    {
        var x = Distinct([g[0], g[1], g[2], g[3]], 1);
        int oh = ((g[2] - g[4]) / g[5]) + 1, ow = ((g[3] - g[4]) / g[5]) + 1;

        var max = x.MaxPool2d(g[4], g[5]);
        var average = x.AvgPool2d(g[4], g[5]);
        var maxFloat = Convert<float>(x).MaxPool2d(g[4], g[5]);

        Assert.Equal(new Shape(g[0], g[1], oh, ow), max.Shape);
        Assert.Equal(max.Shape, average.Shape);
        var o = 0;
        for (var n = 0; n < g[0]; n++)
        {
            for (var c = 0; c < g[1]; c++)
            {
                for (var oy = 0; oy < oh; oy++)
                {
                    for (var ox = 0; ox < ow; ox++, o++)
                    {
                        Assert.Equal(Window(x, g, n, c, oy, ox, v => v.Max()), max[o]);
                        Assert.Equal((float)Window(x, g, n, c, oy, ox, v => v.Max()), maxFloat[o]);
                        AssertClose(Window(x, g, n, c, oy, ox, v => v.Average()), average[o], 1e-14, $"average[{o}]");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Pooling_gradients_match_finite_differences(int[] g)
    {
        var x = Distinct([g[0], g[1], g[2], g[3]], 2);
        var rng = new Rng(3);

        AssertGradientsMatch(WeightedSum(rng, () => x.MaxPool2d(g[4], g[5])), x);
        AssertGradientsMatch(WeightedSum(rng, () => x.AvgPool2d(g[4], g[5])), x);
        AssertGradientsMatch(WeightedSum(rng, () => x.GlobalAvgPool()), x);
    }

    [Fact]
    public void Overlapping_max_windows_send_each_gradient_to_the_element_they_took()
    {
        // 3×3 windows moved by 1 over a 4×4 image whose largest element (row 1, column 1) is in all four windows.
        var x = new Tensor<double>([.. Enumerable.Range(0, 16).Select(i => i == 5 ? 100.0 : i)], new Shape(1, 1, 4, 4), requiresGrad: true);

        x.MaxPool2d(3, 1).Sum().Backward();

        Assert.Equal(4, x.Grad![5]);
        Assert.Equal(4, x.Grad.Data.ToArray().Sum());
    }

    [Fact]
    public void Max_pooling_propagates_NaN()
    {
        var x = new Tensor<float>([1, float.NaN, 3, 2], new Shape(1, 1, 2, 2));

        Assert.True(float.IsNaN(x.MaxPool2d(2).Item()));
    }

    [Fact]
    public void Global_average_pooling_is_the_mean_of_each_channel()
    {
        var x = Distinct([2, 3, 4, 5], 4);

        var y = x.GlobalAvgPool();

        Assert.Equal(new Shape(2, 3), y.Shape);
        for (var p = 0; p < 6; p++)
        {
            AssertClose(x.Data.Slice(p * 20, 20).ToArray().Average(), y[p], 1e-14, $"mean of plane {p}");
        }
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, 2, "Max pooling takes images [batch, channels, height, width]; it was given shape [2, 3, 4].")]
    [InlineData(new[] { 1, 1, 4, 2 }, 3, "Max pooling: a 3×3 window does not fit images of 4×2.")]
    public void Max_pooling_of_shapes_that_do_not_fit_throws_naming_them(int[] shape, int kernel, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new Tensor<double>(new Shape(shape)).MaxPool2d(kernel));

        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void Average_and_global_pooling_of_a_matrix_throw_naming_the_shape()
    {
        var x = new Tensor<double>(new Shape(3, 4));

        Assert.StartsWith("Average pooling takes images [batch, channels, height, width]; it was given shape [3, 4].",
            Assert.Throws<ArgumentException>(() => x.AvgPool2d(2)).Message);
        Assert.StartsWith("Global average pooling takes images [batch, channels, height, width]; it was given shape [3, 4].",
            Assert.Throws<ArgumentException>(() => x.GlobalAvgPool()).Message);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(2, 0)]
    public void Pooling_with_a_kernel_or_stride_below_1_throws(int kernel, int stride)
    {
        var x = new Tensor<double>(new Shape(1, 1, 4, 4));

        Assert.Throws<ArgumentOutOfRangeException>(() => x.MaxPool2d(kernel, stride));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.AvgPool2d(kernel, stride));
    }
}
