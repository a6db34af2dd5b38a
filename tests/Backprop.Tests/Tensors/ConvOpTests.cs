using System.Numerics;
using Backprop.Nn;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>
/// 2-D convolution: values against the definition written as plain loops, every derivative against
/// central finite differences in double, the same bits at any thread count, and replay.
/// </summary>
public sealed class ConvOpTests
{
    /// <summary>y[n,o,oy,ox] = b[o] + Σ W[o,c,i,j]·x[n,c,oy·s−p+i, ox·s−p+j] (0 outside), in double.</summary>
    internal static double[] Reference(double[] x, int[] xs, double[] w, int[] ws, double[]? b, int stride, int pad)
    {
        int n = xs[0], c = xs[1], h = xs[2], wd = xs[3], o = ws[0], kh = ws[2], kw = ws[3];
        int oh = ((h + (2 * pad) - kh) / stride) + 1, ow = ((wd + (2 * pad) - kw) / stride) + 1;
        var y = new double[n * o * oh * ow];
        for (var b0 = 0; b0 < n; b0++)
        {
            for (var oc = 0; oc < o; oc++)
            {
                for (var oy = 0; oy < oh; oy++)
                {
                    for (var ox = 0; ox < ow; ox++)
                    {
                        var s = b is null ? 0 : b[oc];
                        for (var ic = 0; ic < c; ic++)
                        {
                            for (var i = 0; i < kh; i++)
                            {
                                for (var j = 0; j < kw; j++)
                                {
                                    int yy = (oy * stride) - pad + i, xx = (ox * stride) - pad + j;
                                    if (yy >= 0 && yy < h && xx >= 0 && xx < wd)
                                    {
                                        s += w[(((oc * c) + ic) * kh + i) * kw + j] * x[(((b0 * c) + ic) * h + yy) * wd + xx];
                                    }
                                }
                            }
                        }
                        y[(((b0 * o) + oc) * oh + oy) * ow + ox] = s;
                    }
                }
            }
        }
        return y;
    }

    // (batch, channels, height, width, out channels, kernel height, kernel width, stride, padding)
    public static TheoryData<int[]> Geometries() => new()
    {
        new[] { 1, 1, 3, 3, 1, 3, 3, 1, 0 },
        new[] { 2, 1, 5, 4, 3, 3, 3, 1, 1 },
        new[] { 3, 2, 6, 5, 4, 3, 3, 2, 1 },
        new[] { 2, 3, 4, 7, 2, 2, 3, 1, 0 },
        new[] { 1, 2, 7, 7, 3, 5, 5, 2, 2 },
        new[] { 2, 2, 5, 5, 2, 1, 1, 1, 0 },
        new[] { 2, 1, 4, 4, 2, 3, 3, 3, 2 },
        new[] { 17, 1, 4, 3, 2, 3, 3, 1, 1 },
        // Batches above 16 images: several images per group go through one product; with fewer
        // patch rows (1·2·2) than output channels (12) the weight gradient is formed transposed.
        new[] { 20, 1, 5, 6, 12, 2, 2, 1, 1 },
        new[] { 40, 2, 6, 5, 3, 3, 3, 2, 1 },
    };

    private static (Tensor<double> X, Tensor<double> W, Tensor<double> B) Operands(int[] g, int seed)
    {
        var rng = new Rng((ulong)seed);
        var x = Uniform(rng, -1, 1, [g[0], g[1], g[2], g[3]], requiresGrad: true, name: "x");
        var w = Uniform(rng, -1, 1, [g[4], g[1], g[5], g[6]], requiresGrad: true, name: "weight");
        var b = Uniform(rng, -1, 1, [g[4]], requiresGrad: true, name: "bias");
        return (x, w, b);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Conv2d_values_match_the_definition(int[] g)
    {
        var (x, w, b) = Operands(g, 1);
        var expected = Reference(x.ToDoubleArray(), x.Shape.ToArray(), w.ToDoubleArray(), w.Shape.ToArray(), b.ToDoubleArray(), g[7], g[8]);
        // Σ|terms| per output: a sum of k products is off by at most (k + 2)·u·Σ|terms| (u the unit roundoff).
        static double[] Abs(Tensor<double> t) => [.. t.ToDoubleArray().Select(Math.Abs)];
        var magnitude = Reference(Abs(x), x.Shape.ToArray(), Abs(w), w.Shape.ToArray(), Abs(b), g[7], g[8]);
        var terms = (g[1] * g[5] * g[6]) + 3;
        int oh = ((g[2] + (2 * g[8]) - g[5]) / g[7]) + 1, ow = ((g[3] + (2 * g[8]) - g[6]) / g[7]) + 1;

        Check<double>();
        Check<float>();

        void Check<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var y = Convert<T>(x).Conv2d(Convert<T>(w), Convert<T>(b), g[7], g[8]);
            Assert.Equal(new Shape(g[0], g[4], oh, ow), y.Shape);
            var u = typeof(T) == typeof(float) ? Math.ScaleB(1, -24) : Math.ScaleB(1, -53);
            for (var i = 0; i < expected.Length; i++)
            {
                var actual = double.CreateChecked(y[i]);
                Assert.True(Math.Abs(actual - expected[i]) <= terms * u * magnitude[i], $"y[{i}]: expected {expected[i]:R}, got {actual:R}");
            }
        }
    }

    [Fact]
    public void Conv2d_without_bias_is_the_sum_of_products_alone()
    {
        var (x, w, _) = Operands([2, 2, 5, 5, 3, 3, 3, 1, 1], 2);
        var expected = Reference(x.ToDoubleArray(), x.Shape.ToArray(), w.ToDoubleArray(), w.Shape.ToArray(), null, 1, 1);

        var y = x.Conv2d(w, null, 1, 1);

        Assert.Equal(expected.Length, y.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            AssertClose(expected[i], y[i], 1e-13, $"y[{i}]");
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Conv2d_gradient_matches_finite_differences_for_input_weights_and_bias(int[] g)
    {
        var (x, w, b) = Operands(g, 3);
        var rng = new Rng(4);

        AssertGradientsMatch(WeightedSum(rng, () => x.Conv2d(w, b, g[7], g[8])), x, w, b);
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("softplus")]
    [InlineData("sigmoid")]
    [InlineData("identity")]
    public void Fused_conv2d_and_activation_gradient_matches_finite_differences(string name)
    {
        var activation = Activations.Parse(name);
        var (x, _, _) = Operands([2, 2, 5, 4, 3, 3, 3, 1, 1], 5);
        var layer = new Conv2d<double>(2, 3, 3, padding: 1, activation: activation);
        new XavierInitializer(6).Initialize(layer);
        var rng = new Rng(7);
        for (var i = 0; i < layer.Bias!.Length; i++)
        {
            layer.Bias.Data[i] = rng.NextUniform(-0.5, 0.5);
        }

        AssertGradientsMatch(WeightedSum(rng, () => layer.Forward(x)), x, layer.Weight, layer.Bias);
    }

    [Theory]
    [InlineData(20, 1, 12, 2)]
    [InlineData(48, 3, 4, 3)]
    [InlineData(130, 1, 32, 3)]
    public void A_batch_gives_each_image_the_bits_it_gets_alone_and_the_summed_weight_gradient(int batch, int channels, int outChannels, int kernel)
    {
        // Whether an image's columns share a product with other images' (and whether the weight
        // gradient is formed transposed) must not change a bit of its output or its input gradient.
        var rng = new Rng(11);
        var x = Convert<float>(Uniform(rng, -1, 1, [batch, channels, 7, 6]), requiresGrad: true);
        var w = Convert<float>(Uniform(rng, -1, 1, [outChannels, channels, kernel, kernel]), requiresGrad: true);
        var b = Convert<float>(Uniform(rng, -1, 1, [outChannels]));
        var y = x.Conv2d(w, b, 1, 1);
        var dy = Convert<float>(Uniform(rng, -1, 1, y.Shape.ToArray()));
        int imageLength = channels * 7 * 6, outLength = y.Length / batch;

        // The loss Σ y·dy sends dy back to y exactly.
        (y * dy).Sum().Backward();

        var sumDw = new double[w.Length];
        for (var i = 0; i < batch; i++)
        {
            var xi = new Tensor<float>(x.Data.Slice(i * imageLength, imageLength), new Shape(1, channels, 7, 6), requiresGrad: true);
            var wi = new Tensor<float>(w.Data, w.Shape, requiresGrad: true);
            var yi = xi.Conv2d(wi, b, 1, 1);
            (yi * new Tensor<float>(dy.Data.Slice(i * outLength, outLength), yi.Shape)).Sum().Backward();

            Assert.Equal(y.Data.Slice(i * outLength, outLength).ToArray(), yi.Data.ToArray());
            Assert.Equal(x.GradData.AsSpan(i * imageLength, imageLength).ToArray(), xi.GradData.ToArray());
            for (var j = 0; j < sumDw.Length; j++)
            {
                sumDw[j] += wi.GradData[j];
            }
        }
        for (var j = 0; j < sumDw.Length; j++)
        {
            AssertClose(sumDw[j], w.GradData[j], 1e-4, $"dW[{j}]");
        }
    }

    [Fact]
    public void A_replayed_conv2d_recomputes_from_the_new_input()
    {
        var (x, w, b) = Operands([3, 2, 5, 5, 2, 3, 3, 1, 1], 9);
        var graph = new Backprop.Autograd.Graph<double>(x.Conv2d(w, b, 1, 1).Sum());
        var rng = new Rng(10);
        for (var i = 0; i < x.Length; i++)
        {
            x.Data[i] = rng.NextUniform(-1, 1);
        }

        graph.Forward();

        var expected = Reference(x.ToDoubleArray(), x.Shape.ToArray(), w.ToDoubleArray(), w.Shape.ToArray(), b.ToDoubleArray(), 1, 1).Sum();
        AssertClose(expected, graph.Root.Item(), 1e-12, "sum");
    }

    [Theory]
    [InlineData(new[] { 2, 3, 5 }, new[] { 4, 3, 3, 3 }, "A 2-D convolution takes images [batch, channels, height, width]; it was given shape [2, 3, 5].")]
    [InlineData(new[] { 2, 3, 5, 5 }, new[] { 4, 3, 3 }, "Convolution weights must be [out channels, in channels, kernel height, kernel width]; got shape [4, 3, 3].")]
    [InlineData(new[] { 2, 3, 5, 5 }, new[] { 4, 2, 3, 3 }, "The weights [4, 2, 3, 3] take 2 input channels; the images [2, 3, 5, 5] have 3.")]
    [InlineData(new[] { 2, 3, 2, 5 }, new[] { 4, 3, 3, 3 }, "A 3×3 kernel does not fit images of 2×5 with padding 0.")]
    public void Conv2d_of_shapes_that_do_not_fit_throws_naming_them(int[] xShape, int[] wShape, string message)
    {
        var x = new Tensor<double>(new Shape(xShape));
        var w = new Tensor<double>(new Shape(wShape));

        var e = Assert.Throws<ArgumentException>(() => x.Conv2d(w));

        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void Conv2d_with_a_bias_of_the_wrong_length_throws_naming_it()
    {
        var x = new Tensor<double>(new Shape(1, 1, 4, 4));
        var w = new Tensor<double>(new Shape(2, 1, 3, 3));

        var e = Assert.Throws<ArgumentException>(() => x.Conv2d(w, new Tensor<double>(new Shape(3))));

        Assert.StartsWith("The bias must hold one value per output channel (2); got shape [3].", e.Message);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, -1)]
    public void Conv2d_with_a_stride_below_1_or_negative_padding_throws(int stride, int padding)
    {
        var x = new Tensor<double>(new Shape(1, 1, 4, 4));
        var w = new Tensor<double>(new Shape(2, 1, 3, 3));

        Assert.Throws<ArgumentOutOfRangeException>(() => x.Conv2d(w, null, stride, padding));
    }
}
