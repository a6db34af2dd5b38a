using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Tensors;

namespace Backprop.Tests.Losses;

/// <summary>
/// MAE, Huber and binary cross-entropy on logits: values against the direct formulas (PyTorch's
/// definitions), gradients against finite differences in double, and the extremes where a naive
/// formula overflows or loses the loss.
/// </summary>
public sealed class RobustLossTests
{
    private static Tensor<double> Random(Rng rng, bool requiresGrad, int rows, int columns, double low, double high)
    {
        var t = new Tensor<double>(new Shape(rows, columns), requiresGrad);
        for (var i = 0; i < t.Length; i++)
        {
            t[i] = rng.NextUniform(low, high);
        }
        return t;
    }

    private static void AssertAllClose(IReadOnlyList<GradientComparison> comparisons)
    {
        Assert.Contains(comparisons, c => Math.Abs(c.Backprop) > 1e-3);
        foreach (var c in comparisons)
        {
            Assert.True(c.RelativeError < 1e-7, $"{c.Name}: backprop {c.Backprop:R}, numerical {c.Numerical:R}");
        }
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(40, 2)]
    public void Each_loss_is_its_formula_averaged_over_every_value(int rows, int columns)
    {
        var rng = new Rng((ulong)(rows * 10 + columns));
        var p = Random(rng, false, rows, columns, -3, 3);
        var o = Random(rng, false, rows, columns, -3, 3);
        var y = Random(rng, false, rows, columns, 0, 1);
        var n = p.Length;
        double mae = 0, huber = 0, huberHalf = 0, bce = 0;
        for (var i = 0; i < n; i++)
        {
            var r = p[i] - o[i];
            mae += Math.Abs(r);
            huber += Math.Abs(r) < 1 ? 0.5 * r * r : Math.Abs(r) - 0.5;
            huberHalf += Math.Abs(r) < 0.5 ? 0.5 * r * r : 0.5 * (Math.Abs(r) - 0.25);
            bce -= (y[i] * Math.Log(Sigmoid(p[i]))) + ((1 - y[i]) * Math.Log(1 - Sigmoid(p[i])));
        }
        Assert.Equal(mae / n, new MeanAbsoluteError().Compute(p, o).Item(), 1e-14);
        Assert.Equal(huber / n, new HuberLoss().Compute(p, o).Item(), 1e-14);
        Assert.Equal(huberHalf / n, new HuberLoss(0.5).Compute(p, o).Item(), 1e-14);
        Assert.Equal(bce / n, new BinaryCrossEntropy().Compute(p, y).Item(), 1e-13);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    [InlineData(30, 1)]
    public void Gradients_match_finite_differences_for_predictions_and_targets(int rows, int columns)
    {
        var rng = new Rng((ulong)(100 + rows));
        var p = Random(rng, true, rows, columns, -3, 3);
        var o = Random(rng, true, rows, columns, -3, 3);
        var y = Random(rng, true, rows, columns, 0, 1);
        AssertAllClose(GradientCheck.Compare(() => new MeanAbsoluteError().Compute(p, o), [p, o]));
        AssertAllClose(GradientCheck.Compare(() => new HuberLoss().Compute(p, o), [p, o]));
        AssertAllClose(GradientCheck.Compare(() => new HuberLoss(0.3).Compute(p, o), [p, o]));
        AssertAllClose(GradientCheck.Compare(() => new BinaryCrossEntropy().Compute(p, y), [p, y]));
    }

    [Fact]
    public void The_derivatives_are_the_documented_rules_at_their_kinks_and_tails()
    {
        // MAE: sign(p − o)/n, 0 where p = o. Huber: r inside δ, δ·sign(r) outside, equal at |r| = δ.
        var p = new Tensor<double>([1, 2, 5, -5, 3], new Shape(5, 1), requiresGrad: true);
        var o = new Tensor<double>([1, 1.5, 0, 0, 2], new Shape(5, 1));
        new MeanAbsoluteError().Compute(p, o).Backward();
        Assert.Equal([0, 0.2, 0.2, -0.2, 0.2], p.Grad!.ToDoubleArray());
        p.ZeroGrad();
        new HuberLoss().Compute(p, o).Backward();
        Assert.Equal([0, 0.1, 0.2, -0.2, 0.2], p.Grad!.ToDoubleArray());
    }

    [Fact]
    public void Binary_cross_entropy_neither_overflows_nor_loses_a_confident_wrong_answer()
    {
        // A logit of ±800: e^800 overflows and σ(−800) rounds to 0, so log σ would be −∞. The loss of a
        // confident wrong answer is |z|; of a confident right one, 0; the gradient is σ(z) − y: ±1 or 0.
        var z = new Tensor<double>([800, -800, 800, -800, 0], new Shape(5, 1), requiresGrad: true);
        var y = new Tensor<double>([0, 1, 1, 0, 1], new Shape(5, 1));
        var loss = new BinaryCrossEntropy().Compute(z, y);
        Assert.Equal((800 + 800 + Math.Log(2)) / 5, loss.Item(), 1e-12);
        loss.Backward();
        Assert.Equal([0.2, -0.2, 0, 0, -0.1], z.Grad!.ToDoubleArray());
        var f = new Tensor<float>([80f, -80f], new Shape(2, 1));
        Assert.Equal(80f, new BinaryCrossEntropy().Compute(f, new Tensor<float>([0f, 1f], new Shape(2, 1))).Item(), 1e-4f);
    }

    [Fact]
    public void Float_gives_the_double_losses_to_float_precision()
    {
        var rng = new Rng(9);
        var p = Random(rng, false, 16, 2, -3, 3);
        var o = Random(rng, false, 16, 2, 0, 1);
        var pf = new Tensor<float>([.. p.ToDoubleArray().Select(v => (float)v)], p.Shape);
        var of = new Tensor<float>([.. o.ToDoubleArray().Select(v => (float)v)], o.Shape);
        foreach (var loss in new Loss[] { new MeanAbsoluteError(), new HuberLoss(), new BinaryCrossEntropy() })
        {
            Assert.Equal(loss.Compute(p, o).Item(), loss.Compute(pf, of).Item(), 1e-5);
        }
    }

    [Theory]
    [InlineData("mae", typeof(MeanAbsoluteError), "MAE")]
    [InlineData("huber", typeof(HuberLoss), "Huber")]
    [InlineData("bce", typeof(BinaryCrossEntropy), "binary cross-entropy")]
    [InlineData("binary-cross-entropy", typeof(BinaryCrossEntropy), "binary cross-entropy")]
    public void The_losses_are_found_by_name(string name, Type type, string displayName)
    {
        var loss = Loss.Create(name);
        Assert.IsType(type, loss);
        Assert.Equal(displayName, loss.DisplayName);
        Assert.False(loss.IsClassification);
        Assert.False(loss.SumsOverRows);
    }

    [Fact]
    public void Bad_shapes_and_deltas_are_refused_with_one_line()
    {
        var p = new Tensor<double>(new Shape(3, 1));
        var o = new Tensor<double>(new Shape(3, 2));
        foreach (var loss in new Loss[] { new MeanAbsoluteError(), new HuberLoss(), new BinaryCrossEntropy() })
        {
            var e = Assert.Throws<BackpropException>(() => loss.Compute(p, o));
            Assert.Equal("Predictions have shape [3, 1] but observed values have shape [3, 2].", e.Message);
        }
        var d = Assert.Throws<ArgumentOutOfRangeException>(() => new HuberLoss(0));
        Assert.StartsWith("Huber's δ must be a positive, finite number.", d.Message, StringComparison.Ordinal);
    }
}
