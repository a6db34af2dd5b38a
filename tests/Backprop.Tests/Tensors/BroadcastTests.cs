using System.Numerics;
using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>Row and scalar broadcasting of add, subtract and multiply: values, gradients, errors.</summary>
public sealed class BroadcastTests
{
    private static readonly Dictionary<string, (Func<Tensor<double>, Tensor<double>, Tensor<double>> Op, Func<double, double, double> Formula)> ops = new()
    {
        ["add"] = ((a, b) => a + b, (a, b) => a + b),
        ["subtract"] = ((a, b) => a - b, (a, b) => a - b),
        ["multiply"] = ((a, b) => a * b, (a, b) => a * b),
    };

    // How the second operand is laid over an [n, m] matrix, and on which side it stands.
    private static readonly Dictionary<string, (Func<int, int, int[]> Shape, bool Left)> layouts = new()
    {
        ["row [m] on the right"] = ((_, m) => [m], false),
        ["row [1,m] on the right"] = ((_, m) => [1, m], false),
        ["row [m] on the left"] = ((_, m) => [m], true),
        ["row [1,m] on the left"] = ((_, m) => [1, m], true),
        ["scalar [] on the right"] = ((_, _) => [], false),
        ["scalar [1] on the right"] = ((_, _) => [1], false),
        ["scalar [1,1] on the right"] = ((_, _) => [1, 1], false),
        ["scalar [] on the left"] = ((_, _) => [], true),
        ["scalar [1] on the left"] = ((_, _) => [1], true),
    };

    public static TheoryData<string, string, int, int> Cases()
    {
        var data = new TheoryData<string, string, int, int>();
        foreach (var op in ops.Keys)
        {
            foreach (var layout in layouts.Keys)
            {
                foreach (var (n, m) in new[] { (3, 4), (5, 1), (2, 7) })
                {
                    data.Add(op, layout, n, m);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Broadcast_gradient_matches_finite_differences_for_both_operands(string op, string layout, int n, int m)
    {
        var rng = new Rng(21);
        var matrix = Uniform(rng, -2, 2, [n, m], requiresGrad: true, name: "matrix");
        var small = Uniform(rng, -2, 2, layouts[layout].Shape(n, m), requiresGrad: true, name: "broadcast");
        var f = ops[op].Op;
        Func<Tensor<double>> result = layouts[layout].Left ? () => f(small, matrix) : () => f(matrix, small);

        Assert.Equal(new Shape(n, m), result().Shape);
        AssertGradientsMatch(WeightedSum(rng, result), matrix, small);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Broadcast_values_repeat_the_row_or_scalar(string op, string layout, int n, int m)
    {
        CheckValues<double>(op, layout, n, m);
        CheckValues<float>(op, layout, n, m);
    }

    private static void CheckValues<T>(string op, string layout, int n, int m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(22);
        var matrix = Uniform(rng, -2, 2, [n, m]);
        var (shape, left) = layouts[layout];
        var small = Uniform(rng, -2, 2, shape(n, m));
        Tensor<T> a = Convert<T>(matrix), b = Convert<T>(small);
        var result = op switch
        {
            "add" => left ? b + a : a + b,
            "subtract" => left ? b - a : a - b,
            _ => left ? b * a : a * b,
        };
        var formula = ops[op].Formula;
        var x = a.ToDoubleArray();
        var y = b.ToDoubleArray();

        Assert.Equal(new Shape(n, m), result.Shape);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < m; j++)
            {
                var s = y[small.Length == 1 ? 0 : j];
                var expected = left ? formula(s, x[(i * m) + j]) : formula(x[(i * m) + j], s);
                AssertClose(expected, double.CreateChecked(result[i, j]), Tolerance<T>(), $"{op}[{i},{j}]");
            }
        }
    }

    [Fact]
    public void A_row_bias_gradient_sums_the_output_gradient_over_rows()
    {
        var x = Tensor<double>.FromArray([1, 2, 3, 4, 5, 6], 3, 2);
        var bias = Tensor<double>.FromArray([0.5, -0.5], 2);
        bias.RequiresGrad = true;
        var w = Tensor<double>.FromArray([1, 10, 100, 1000, 10000, 100000], 3, 2);

        ((x + bias) * w).Sum().Backward();

        Assert.Equal([10101.0, 101010], bias.Grad!.ToDoubleArray());
    }

    [Fact]
    public void A_scalar_gradient_sums_the_output_gradient_everywhere()
    {
        var x = Tensor<double>.FromArray([1, 2, 3, 4], 2, 2);
        var c = Tensor<double>.Scalar(3, requiresGrad: true);

        (c * x).Sum().Backward();

        Assert.Equal(10.0, c.Grad!.Item());
    }

    [Theory]
    [InlineData(new int[] { 2, 3 }, new int[] { 4 })]
    [InlineData(new int[] { 2, 3 }, new int[] { 2 })]
    [InlineData(new int[] { 2, 3 }, new int[] { 3, 2 })]
    [InlineData(new int[] { 2, 3 }, new int[] { 2, 1 })]
    [InlineData(new int[] { 2, 3 }, new int[] { 2, 3, 1 })]
    [InlineData(new int[] { 3 }, new int[] { 4 })]
    [InlineData(new int[] { 2, 3, 4 }, new int[] { 4 })]
    public void Incompatible_shapes_throw_naming_both_shapes(int[] left, int[] right)
    {
        var a = new Tensor<double>(new Shape(left));
        var b = new Tensor<double>(new Shape(right));

        foreach (var (name, op) in ops.Select(kv => (kv.Key, kv.Value.Op)))
        {
            foreach (var (x, y) in new[] { (a, b), (b, a) })
            {
                var ex = Assert.Throws<ArgumentException>(() => op(x, y));
                Assert.Contains(name, ex.Message, StringComparison.Ordinal);
                Assert.Contains($"shapes {x.Shape} and {y.Shape}", ex.Message, StringComparison.Ordinal);
            }
        }
    }
}
