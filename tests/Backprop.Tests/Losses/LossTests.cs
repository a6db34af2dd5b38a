using Backprop.Diagnostics;
using Backprop.Losses;
using Backprop.Tensors;

namespace Backprop.Tests.Losses;

public sealed class LossTests
{
    private static Tensor<double> Random(Rng rng, bool requiresGrad, int rows, int columns, double scale = 2)
    {
        var t = new Tensor<double>(new Shape(rows, columns), requiresGrad);
        for (var i = 0; i < t.Length; i++)
        {
            t[i] = rng.NextUniform(-scale, scale);
        }
        return t;
    }

    private static Tensor<double> ClassIndices(Rng rng, int rows, int classes)
    {
        var t = new Tensor<double>(new Shape(rows));
        for (var i = 0; i < rows; i++)
        {
            t[i] = rng.NextInt(classes);
        }
        return t;
    }

    // −log softmax(z)[c] for one row, the plain way (small logits only).
    private static double RowCrossEntropy(double[] z, int c) => -Math.Log(Math.Exp(z[c]) / z.Sum(Math.Exp));

    private static void AssertAllClose(IReadOnlyList<GradientComparison> comparisons)
    {
        Assert.Contains(comparisons, c => Math.Abs(c.Backprop) > 1e-3);
        foreach (var c in comparisons)
        {
            Assert.True(c.RelativeError < 1e-7, $"{c.Name}: backprop {c.Backprop:R}, numerical {c.Numerical:R}");
        }
    }

    [Fact]
    public void SSR_is_the_sum_of_squared_residuals()
    {
        var predicted = Tensor<double>.FromRows([[0.5], [2.0], [-1.0]]);
        var observed = Tensor<double>.FromRows([[0.0], [1.0], [1.0]]);

        var loss = new SumSquaredResiduals().Compute(predicted, observed);

        Assert.Equal(Shape.Scalar, loss.Shape);
        Assert.Equal((0.5 * 0.5) + (1.0 * 1.0) + (2.0 * 2.0), loss.Item(), 1e-15);
    }

    [Fact]
    public void MSE_is_the_mean_over_every_value()
    {
        var predicted = Tensor<double>.FromRows([[0.5, 1.0], [2.0, 3.0], [-1.0, 0.0]]);
        var observed = Tensor<double>.FromRows([[0.0, 1.0], [1.0, 1.0], [1.0, 0.5]]);

        var loss = new MeanSquaredError().Compute(predicted, observed);

        Assert.Equal(((0.5 * 0.5) + 0 + 1 + 4 + 4 + 0.25) / 6, loss.Item(), 1e-15);
    }

    [Fact]
    public void Cross_entropy_with_class_indices_is_the_mean_negative_log_probability()
    {
        double[][] logits = [[1.0, 2.0, 0.5], [0.1, -0.3, 0.2]];

        var loss = new CrossEntropy().Compute(Tensor<double>.FromRows(logits), Tensor<double>.FromArray([1.0, 0.0], 2));

        Assert.Equal((RowCrossEntropy(logits[0], 1) + RowCrossEntropy(logits[1], 0)) / 2, loss.Item(), 1e-14);
    }

    [Fact]
    public void Cross_entropy_accepts_indices_as_a_column()
    {
        double[][] logits = [[1.0, 2.0, 0.5], [0.1, -0.3, 0.2]];

        var loss = new CrossEntropy().Compute(Tensor<double>.FromRows(logits), Tensor<double>.FromRows([[2.0], [1.0]]));

        Assert.Equal((RowCrossEntropy(logits[0], 2) + RowCrossEntropy(logits[1], 1)) / 2, loss.Item(), 1e-14);
    }

    [Fact]
    public void Cross_entropy_with_probabilities_weights_each_class()
    {
        double[][] logits = [[1.0, 2.0, 0.5], [0.1, -0.3, 0.2]];
        double[][] target = [[0.2, 0.8, 0.0], [0.0, 0.0, 1.0]];

        var loss = new CrossEntropy().Compute(Tensor<double>.FromRows(logits), Tensor<double>.FromRows(target));

        var expected = ((0.2 * RowCrossEntropy(logits[0], 0)) + (0.8 * RowCrossEntropy(logits[0], 1)) + RowCrossEntropy(logits[1], 2)) / 2;
        Assert.Equal(expected, loss.Item(), 1e-14);
    }

    [Fact]
    public void Cross_entropy_is_stable_for_huge_logits()
    {
        var loss = new CrossEntropy().Compute(Tensor<double>.FromRows([[400.0, 0.0], [-400.0, 400.0]]), Tensor<double>.FromArray([1.0, 1.0], 2));

        // Row 0: −log softmax = 400 − 0 (up to e^−400); row 1: log(1 + e^−800) ≈ 0.
        Assert.Equal(200, loss.Item(), 1e-12);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(4, 3)]
    [InlineData(7, 5)]
    public void SSR_and_MSE_have_the_gradients_of_finite_differences(int rows, int columns)
    {
        var rng = new Rng((ulong)((rows * 10) + columns));
        var predicted = Random(rng, true, rows, columns);
        var observed = Random(rng, false, rows, columns);

        AssertAllClose(GradientCheck.Compare(() => new SumSquaredResiduals().Compute(predicted, observed), [predicted]));
        AssertAllClose(GradientCheck.Compare(() => new MeanSquaredError().Compute(predicted, observed), [predicted]));
    }

    [Fact]
    public void The_SSR_gradient_is_minus_two_times_the_residual()
    {
        var predicted = new Tensor<double>([0.5, 2.0, -1.0], new Shape(3, 1), requiresGrad: true);
        var observed = Tensor<double>.FromRows([[0.0], [1.0], [1.0]]);

        new SumSquaredResiduals().Compute(predicted, observed).Backward();

        Assert.Equal([-2 * (0 - 0.5), -2 * (1 - 2.0), -2 * (1 - -1.0)], predicted.Grad!.ToDoubleArray());
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 4)]
    [InlineData(6, 10)]
    public void Cross_entropy_has_the_gradients_of_finite_differences(int rows, int classes)
    {
        var rng = new Rng((ulong)((rows * 100) + classes));
        var logits = Random(rng, true, rows, classes, scale: 3);
        var indices = ClassIndices(rng, rows, classes);
        var probabilities = Random(rng, false, rows, classes);
        for (var i = 0; i < probabilities.Length; i++)
        {
            probabilities[i] = Math.Abs(probabilities[i]);
        }
        for (var r = 0; r < rows; r++)
        {
            var sum = 0.0;
            for (var c = 0; c < classes; c++)
            {
                sum += probabilities[r, c];
            }
            for (var c = 0; c < classes; c++)
            {
                probabilities[r, c] /= sum;
            }
        }

        AssertAllClose(GradientCheck.Compare(() => new CrossEntropy().Compute(logits, indices), [logits]));
        AssertAllClose(GradientCheck.Compare(() => new CrossEntropy().Compute(logits, probabilities), [logits]));
    }

    [Theory]
    [InlineData("ssr")]
    [InlineData("mse")]
    public void Regression_losses_name_both_shapes_when_they_differ(string name)
    {
        var loss = Loss.Create(name);

        var e = Assert.Throws<BackpropException>(() => loss.Compute(Tensor<double>.Zeros(3, 1), Tensor<double>.Zeros(3)));

        Assert.Equal("Predictions have shape [3, 1] but observed values have shape [3].", e.Message);
    }

    [Fact]
    public void Cross_entropy_needs_one_output_per_class()
    {
        var e = Assert.Throws<BackpropException>(() => new CrossEntropy().Compute(Tensor<double>.Zeros(3, 1), Tensor<double>.Zeros(3)));

        Assert.Contains("at least 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("[3, 1]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cross_entropy_names_a_target_that_is_not_a_class()
    {
        var e = Assert.Throws<BackpropException>(() => new CrossEntropy().Compute(Tensor<double>.Zeros(2, 3), Tensor<double>.FromArray([0.0, 3.0], 2)));

        Assert.Contains("row 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("0 to 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cross_entropy_names_targets_of_the_wrong_shape()
    {
        var e = Assert.Throws<BackpropException>(() => new CrossEntropy().Compute(Tensor<double>.Zeros(2, 3), Tensor<double>.Zeros(2, 2)));

        Assert.Contains("[2, 2]", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ssr", typeof(SumSquaredResiduals), "ssr", "SSR", false)]
    [InlineData("Sum-Squared-Residuals", typeof(SumSquaredResiduals), "ssr", "SSR", false)]
    [InlineData(" MSE ", typeof(MeanSquaredError), "mse", "MSE", false)]
    [InlineData("mean-squared-error", typeof(MeanSquaredError), "mse", "MSE", false)]
    [InlineData("cross-entropy", typeof(CrossEntropy), "cross-entropy", "cross-entropy", true)]
    [InlineData("CE", typeof(CrossEntropy), "cross-entropy", "cross-entropy", true)]
    public void Losses_are_created_by_name(string name, Type type, string canonical, string display, bool classification)
    {
        var loss = Loss.Create(name);

        Assert.IsType(type, loss);
        Assert.Equal(canonical, loss.Name);
        Assert.Equal(display, loss.DisplayName);
        Assert.Equal(classification, loss.IsClassification);
    }

    [Fact]
    public void An_unknown_loss_name_lists_the_choices()
    {
        var e = Assert.Throws<BackpropException>(() => Loss.Create("hinge"));

        Assert.Equal("Unknown loss 'hinge'; choose one of ssr, mse, cross-entropy, mae, huber, bce.", e.Message);
    }
}
