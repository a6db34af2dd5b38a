using Backprop.Tensors;
using static Backprop.Tests.TestUtil.TestTensors;

namespace Backprop.Tests.Tensors;

/// <summary>Every op's derivative rule against central finite differences, in double.</summary>
public sealed class OpGradientTests
{
    private static double Symmetric(Rng rng, double limit) => rng.NextUniform(-limit, limit);

    // Each element-wise op with the inputs it is checked on. ReLU stays away from its kink at 0,
    // with alternating signs so that both branches are checked; log gets positive inputs.
    private static readonly Dictionary<string, (Func<Tensor<double>, Tensor<double>> Op, Func<Rng, int, double> Draw)> unary = new()
    {
        ["identity"] = (x => x.Identity(), (r, _) => Symmetric(r, 2)),
        ["square"] = (x => x.Square(), (r, _) => Symmetric(r, 2)),
        ["exp"] = (x => x.Exp(), (r, _) => Symmetric(r, 2)),
        ["log"] = (x => x.Log(), (r, _) => r.NextUniform(0.1, 3)),
        ["softplus"] = (x => x.SoftPlus(), (r, _) => Symmetric(r, 4)),
        ["relu"] = (x => x.Relu(), (r, i) => (i % 2 == 0 ? 1 : -1) * r.NextUniform(0.1, 2)),
        ["sigmoid"] = (x => x.Sigmoid(), (r, _) => Symmetric(r, 4)),
        ["tanh"] = (x => x.Tanh(), (r, _) => Symmetric(r, 2)),
        ["x*c"] = (x => x * 2.5, (r, _) => Symmetric(r, 2)),
        ["c*x"] = (x => -0.75 * x, (r, _) => Symmetric(r, 2)),
        ["Scale"] = (x => TensorOps.Scale(x, 0.3), (r, _) => Symmetric(r, 2)),
        ["x/c"] = (x => x / 1.7, (r, _) => Symmetric(r, 2)),
        ["Divide"] = (x => TensorOps.Divide(x, -3.0), (r, _) => Symmetric(r, 2)),
        ["-x"] = (x => -x, (r, _) => Symmetric(r, 2)),
        ["sum"] = (x => x.Sum(), (r, _) => Symmetric(r, 2)),
        ["mean"] = (x => x.Mean(), (r, _) => Symmetric(r, 2)),
    };

    private static readonly int[][] shapes = [[], [1], [1, 1], [1, 6], [5, 1], [3, 4], [7]];

    public static TheoryData<string, int[]> UnaryCases()
    {
        var data = new TheoryData<string, int[]>();
        foreach (var op in unary.Keys)
        {
            foreach (var shape in shapes)
            {
                data.Add(op, shape);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void Unary_op_gradient_matches_finite_differences(string op, int[] shape)
    {
        var (f, draw) = unary[op];
        var rng = new Rng(11);
        var x = Draw(rng, draw, shape, requiresGrad: true, name: "x");

        AssertGradientsMatch(WeightedSum(rng, () => f(x)), x);
    }

    private static readonly Dictionary<string, Func<Tensor<double>, Tensor<double>, Tensor<double>>> binary = new()
    {
        ["add"] = (a, b) => a + b,
        ["subtract"] = (a, b) => a - b,
        ["multiply"] = (a, b) => a * b,
        ["TensorOps.Add"] = TensorOps.Add,
        ["TensorOps.Subtract"] = TensorOps.Subtract,
        ["TensorOps.Multiply"] = TensorOps.Multiply,
    };

    public static TheoryData<string, int[]> SameShapeCases()
    {
        var data = new TheoryData<string, int[]>();
        foreach (var op in binary.Keys)
        {
            foreach (var shape in new int[][] { [], [1, 1], [2, 5], [4, 3], [6] })
            {
                data.Add(op, shape);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SameShapeCases))]
    public void Binary_op_gradient_matches_finite_differences_for_both_operands(string op, int[] shape)
    {
        var rng = new Rng(12);
        var a = Uniform(rng, -2, 2, shape, requiresGrad: true, name: "a");
        var b = Uniform(rng, -2, 2, shape, requiresGrad: true, name: "b");

        AssertGradientsMatch(WeightedSum(rng, () => binary[op](a, b)), a, b);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("multiply")]
    public void Binary_op_with_the_same_tensor_on_both_sides_gets_both_contributions(string op)
    {
        var rng = new Rng(13);
        var x = Uniform(rng, -2, 2, [3, 4], requiresGrad: true, name: "x");

        AssertGradientsMatch(WeightedSum(rng, () => binary[op](x, x)), x);
    }

    [Fact]
    public void A_tensor_minus_itself_has_zero_gradient()
    {
        var x = Uniform(new Rng(13), -2, 2, [3, 4], requiresGrad: true);

        ((x - x) * x).Sum().Backward();

        // d/dx ((x − x)·x) = (1 − 1)·x + (x − x) = 0
        Assert.All(x.Grad!.ToDoubleArray(), g => Assert.Equal(0.0, g));
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 4, 1)]
    [InlineData(3, 1, 4)]
    [InlineData(2, 5, 3)]
    [InlineData(4, 4, 4)]
    [InlineData(7, 3, 2)]
    public void MatMul_gradient_matches_finite_differences(int m, int k, int n)
    {
        var rng = new Rng(14);
        var a = Uniform(rng, -1, 1, [m, k], requiresGrad: true, name: "a");
        var b = Uniform(rng, -1, 1, [k, n], requiresGrad: true, name: "b");

        AssertGradientsMatch(WeightedSum(rng, () => a.MatMul(b)), a, b);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void MatMul_of_a_matrix_with_itself_gets_both_contributions(int n)
    {
        var rng = new Rng(15);
        var a = Uniform(rng, -1, 1, [n, n], requiresGrad: true, name: "a");

        AssertGradientsMatch(WeightedSum(rng, () => a.MatMul(a)), a);
    }

    [Fact]
    public void MatMul_sends_no_gradient_to_a_constant_operand()
    {
        var rng = new Rng(16);
        var a = Uniform(rng, -1, 1, [3, 2], requiresGrad: true, name: "a");
        var b = Uniform(rng, -1, 1, [2, 4], name: "b");

        AssertGradientsMatch(WeightedSum(rng, () => a.MatMul(b)), a);
        Assert.Null(b.Grad);
    }

    public static TheoryData<int, int, string> CrossEntropyCases()
    {
        var data = new TheoryData<int, int, string>();
        foreach (var (rows, classes) in new[] { (1, 2), (2, 5), (5, 3), (8, 10) })
        {
            foreach (var target in new[] { "indices [n]", "indices [n,1]", "probabilities", "unnormalised weights" })
            {
                data.Add(rows, classes, target);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CrossEntropyCases))]
    public void SoftmaxCrossEntropy_gradient_matches_finite_differences(int rows, int classes, string target)
    {
        var rng = new Rng(17);
        var logits = Uniform(rng, -3, 3, [rows, classes], requiresGrad: true, name: "logits");
        var t = target switch
        {
            "indices [n]" => Draw(rng, (r, _) => r.NextInt(classes), [rows]),
            "indices [n,1]" => Draw(rng, (r, _) => r.NextInt(classes), [rows, 1]),
            "probabilities" => Probabilities(rng, rows, classes),
            _ => Draw(rng, (r, i) => i % 3 == 1 ? 0 : r.NextUniform(0, 2), [rows, classes]),
        };

        AssertGradientsMatch(() => logits.SoftmaxCrossEntropy(t) * 1.7, logits);
        Assert.Null(t.Grad);
    }

    private static Tensor<double> Probabilities(Rng rng, int rows, int classes)
    {
        var t = Uniform(rng, 0, 1, [rows, classes]);
        for (var i = 0; i < rows; i++)
        {
            var row = t.Data.Slice(i * classes, classes);
            var total = 0.0;
            foreach (var v in row)
            {
                total += v;
            }
            foreach (ref var v in row)
            {
                v /= total;
            }
        }
        return t;
    }

    [Fact]
    public void A_composite_expression_gradient_matches_finite_differences()
    {
        var rng = new Rng(18);
        var x = Uniform(rng, -1, 1, [6, 3], name: "x");
        var w1 = Uniform(rng, -1, 1, [3, 4], requiresGrad: true, name: "w1");
        var b1 = Uniform(rng, -1, 1, [4], requiresGrad: true, name: "b1");
        var w2 = Uniform(rng, -1, 1, [4, 2], requiresGrad: true, name: "w2");
        var b2 = Uniform(rng, -1, 1, [1, 2], requiresGrad: true, name: "b2");
        var y = Uniform(rng, -1, 1, [6, 2], name: "y");

        AssertGradientsMatch(() => ((x.MatMul(w1) + b1).SoftPlus().MatMul(w2) + b2 - y).Square().Mean(), w1, b1, w2, b2);
    }
}
