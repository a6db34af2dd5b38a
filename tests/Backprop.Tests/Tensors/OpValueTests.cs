using System.Numerics;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>Forward values of every op against the textbook scalar formula, in float and double.</summary>
public sealed class OpValueTests
{
    // Inputs cover both signs except for log, which gets positive ones.
    private static readonly double[] inputs = [-3.5, -1.25, -0.3, -1e-3, 0, 2e-4, 0.45, 1, 2.75, 6];
    private static readonly double[] positive = [1e-3, 0.05, 0.2, 0.5, 1, 1.7, 10, 250];

    public static TheoryData<string> UnaryOps() => ["identity", "square", "exp", "log", "softplus", "relu", "sigmoid", "tanh", "x*c", "c*x", "x/c", "Divide", "Scale", "-x"];

    private static Tensor<T> Apply<T>(string op, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T> => op switch
    {
        "identity" => x.Identity(),
        "square" => x.Square(),
        "exp" => x.Exp(),
        "log" => x.Log(),
        "softplus" => x.SoftPlus(),
        "relu" => x.Relu(),
        "sigmoid" => x.Sigmoid(),
        "tanh" => x.Tanh(),
        "x*c" => x * T.CreateChecked(2.5),
        "c*x" => T.CreateChecked(-0.75) * x,
        "x/c" => x / T.CreateChecked(4),
        "Divide" => TensorOps.Divide(x, T.CreateChecked(-8)),
        "Scale" => TensorOps.Scale(x, T.CreateChecked(0.5)),
        "-x" => -x,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    private static double Formula(string op, double x) => op switch
    {
        "identity" => x,
        "square" => x * x,
        "exp" => Math.Exp(x),
        "log" => Math.Log(x),
        "softplus" => Math.Log(1 + Math.Exp(x)),
        "relu" => Math.Max(x, 0),
        "sigmoid" => 1 / (1 + Math.Exp(-x)),
        "tanh" => Math.Tanh(x),
        "x*c" => x * 2.5,
        "c*x" => -0.75 * x,
        "x/c" => x / 4,
        "Divide" => x / -8,
        "Scale" => x * 0.5,
        "-x" => -x,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void Unary_op_values_match_the_formula(string op)
    {
        CheckUnary<double>(op);
        CheckUnary<float>(op);
    }

    private static void CheckUnary<T>(string op) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = op == "log" ? positive : inputs;
        var x = Tensor<T>.FromArray([.. values.Select(T.CreateChecked)], 2, values.Length / 2);
        var y = Apply(op, x);

        Assert.Equal(x.Shape, y.Shape);
        var xs = x.ToDoubleArray();
        var ys = y.ToDoubleArray();
        for (var i = 0; i < xs.Length; i++)
        {
            AssertClose(Formula(op, xs[i]), ys[i], Tolerance<T>(), $"{typeof(T).Name} {op}({xs[i]})");
        }
    }

    [Fact]
    public void Tanh_keeps_full_relative_precision_near_zero()
    {
        CheckTanhNearZero<double>();
        CheckTanhNearZero<float>();
    }

    private static void CheckTanhNearZero<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        // 64 elements, so that most go through the vectorised kernel rather than a scalar tail.
        double[] magnitudes = [0, 1e-30, 1e-12, 1e-7, 1e-6, 1e-4, 1e-3, 0.01, 0.1, 0.2, 0.249, 0.251, 0.3, 0.5, 1, 3];
        var values = magnitudes.Concat(magnitudes.Select(m => -m)).ToArray();
        var x = Tensor<T>.FromArray([.. values.Concat(values).Select(T.CreateChecked)], 64);

        var y = x.Tanh().ToDoubleArray();

        var xs = x.ToDoubleArray();
        for (var i = 0; i < xs.Length; i++)
        {
            AssertRelative(Math.Tanh(xs[i]), y[i], Tolerance<T>(), $"{typeof(T).Name} tanh({xs[i]:R})");
        }
    }

    [Fact]
    public void Unary_ops_keep_rank_one_and_scalar_shapes()
    {
        var vector = Tensor<double>.FromArray([1, 2, 3], 3);
        var scalar = Tensor<double>.Scalar(0.5);

        Assert.Equal(new Shape(3), vector.Tanh().Shape);
        Assert.Equal(Shape.Scalar, scalar.SoftPlus().Shape);
        Assert.Equal(Math.Tanh(0.5), scalar.Tanh().Item(), 1e-15);
    }

    [Fact]
    public void Binary_op_values_match_the_formula()
    {
        CheckBinary<double>();
        CheckBinary<float>();
    }

    private static void CheckBinary<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(31);
        var a = Convert<T>(Uniform(rng, -3, 3, [3, 5]));
        var b = Convert<T>(Uniform(rng, -3, 3, [3, 5]));
        double[] x = a.ToDoubleArray(), y = b.ToDoubleArray();
        double[] sum = (a + b).ToDoubleArray(), difference = (a - b).ToDoubleArray(), product = (a * b).ToDoubleArray();

        for (var i = 0; i < x.Length; i++)
        {
            AssertClose(x[i] + y[i], sum[i], Tolerance<T>(), "a + b");
            AssertClose(x[i] - y[i], difference[i], Tolerance<T>(), "a − b");
            AssertClose(x[i] * y[i], product[i], Tolerance<T>(), "a · b");
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 7, 1)]
    [InlineData(4, 1, 3)]
    [InlineData(3, 5, 2)]
    [InlineData(9, 17, 6)]
    public void MatMul_values_match_the_triple_loop(int m, int k, int n)
    {
        CheckMatMul<double>(m, k, n);
        CheckMatMul<float>(m, k, n);
    }

    private static void CheckMatMul<T>(int m, int k, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(32);
        var a = Convert<T>(Uniform(rng, -1, 1, [m, k]));
        var b = Convert<T>(Uniform(rng, -1, 1, [k, n]));

        var c = a.MatMul(b);

        Assert.Equal(new Shape(m, n), c.Shape);
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double expected = 0, magnitude = 0;
                for (var p = 0; p < k; p++)
                {
                    var term = double.CreateChecked(a[i, p]) * double.CreateChecked(b[p, j]);
                    expected += term;
                    magnitude += Math.Abs(term);
                }
                // Rounding in a dot product is bounded by k·ε·Σ|aᵢₚbₚⱼ|, not by |result|.
                Assert.True(Math.Abs(double.CreateChecked(c[i, j]) - expected) <= Tolerance<T>() * 10 * magnitude,
                    $"{typeof(T).Name} c[{i},{j}] = {c[i, j]}, expected {expected}");
            }
        }
    }

    [Theory]
    [InlineData(new int[] { })]
    [InlineData(new int[] { 1, 1 })]
    [InlineData(new int[] { 7 })]
    [InlineData(new int[] { 3, 5 })]
    [InlineData(new int[] { 40, 25 })]
    public void Sum_and_mean_match_the_loop(int[] shape)
    {
        CheckReductions<double>(shape);
        CheckReductions<float>(shape);
    }

    private static void CheckReductions<T>(int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Convert<T>(Uniform(new Rng(33), 0.5, 2, shape));
        var values = x.ToDoubleArray();

        var sum = x.Sum();
        var mean = x.Mean();

        // Any summation order is within n·u·Σ|x| of the exact sum (u: the unit roundoff of T), and so
        // is the double reference; the mean adds two roundings (1/n and the product).
        var u = Math.ScaleB(1.0, typeof(T) == typeof(float) ? -24 : -53);
        var reference = values.Sum();
        var slack = 2 * values.Length * u * reference;
        Assert.Equal(Shape.Scalar, sum.Shape);
        Assert.Equal(Shape.Scalar, mean.Shape);
        Assert.InRange(double.CreateChecked(sum.Item()), reference - slack, reference + slack);
        var referenceMean = reference / values.Length;
        slack = 2 * (values.Length + 2) * u * referenceMean;
        Assert.InRange(double.CreateChecked(mean.Item()), referenceMean - slack, referenceMean + slack);
    }

    [Fact]
    public void SoftmaxCrossEntropy_with_class_indices_is_the_mean_negative_log_probability()
    {
        CheckCrossEntropy<double>(indices: true);
        CheckCrossEntropy<float>(indices: true);
    }

    [Fact]
    public void SoftmaxCrossEntropy_with_probabilities_is_the_mean_weighted_negative_log_probability()
    {
        CheckCrossEntropy<double>(indices: false);
        CheckCrossEntropy<float>(indices: false);
    }

    private static void CheckCrossEntropy<T>(bool indices) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int rows = 4, classes = 3;
        var rng = new Rng(34);
        var logits = Convert<T>(Uniform(rng, -3, 3, [rows, classes]));
        var target = indices
            ? Tensor<T>.FromArray([T.Zero, T.CreateChecked(2), T.One, T.CreateChecked(2)], rows)
            : Convert<T>(Uniform(rng, 0, 1, [rows, classes]));
        double[] z = logits.ToDoubleArray(), t = target.ToDoubleArray();

        double expected = 0;
        for (var i = 0; i < rows; i++)
        {
            var normaliser = 0.0;
            for (var c = 0; c < classes; c++)
            {
                normaliser += Math.Exp(z[(i * classes) + c]);
            }
            for (var c = 0; c < classes; c++)
            {
                var weight = indices ? (c == (int)t[i] ? 1 : 0) : t[(i * classes) + c];
                expected -= weight * Math.Log(Math.Exp(z[(i * classes) + c]) / normaliser);
            }
        }
        expected /= rows;

        var loss = logits.SoftmaxCrossEntropy(target);

        Assert.Equal(Shape.Scalar, loss.Shape);
        AssertClose(expected, double.CreateChecked(loss.Item()), Tolerance<T>(), $"{typeof(T).Name} cross-entropy");
    }
}
