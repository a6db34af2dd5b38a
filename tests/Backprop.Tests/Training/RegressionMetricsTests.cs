using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Training;

public sealed class RegressionMetricsTests
{
    [Fact]
    public void The_evaluator_gives_mse_rmse_mae_and_r_squared()
    {
        // y = 2x predicts 2, 4, 6 for observed 2, 5, 5: errors 0, −1, +1.
        var network = Sequential<double>.Mlp([1, 1], Activation.Identity);
        network.Elements().First(e => e.Name.Contains("weight", StringComparison.Ordinal)).Parameter.Data[0] = 2;
        var data = new Dataset("d", [1, 2, 3], [2, 5, 5], ["x"], ["y"]);

        var score = new Evaluator<double>(network, new MeanSquaredError(), chunkRows: 2).Evaluate(data);

        var m = score.Regression!.Value;
        Assert.Equal(2.0 / 3, m.Mse, 15);
        Assert.Equal(Math.Sqrt(2.0 / 3), m.Rmse, 15);
        Assert.Equal(2.0 / 3, m.Mae, 15);
        // mean 4, Σ(y − mean)² = 4 + 1 + 1 = 6: R² = 1 − 2/6.
        Assert.Equal(2.0 / 3, m.RSquared, 15);
        Assert.Equal(3, m.Count);
        Assert.Equal(m.Mse, score.Loss, 15);
    }

    [Fact]
    public void A_constant_target_has_no_r_squared_and_a_classifier_no_regression_metrics()
    {
        var network = Sequential<double>.Mlp([1, 1], Activation.Identity);
        var constant = new Dataset("c", [1, 2], [3, 3], ["x"], ["y"]);
        Assert.True(double.IsNaN(new Evaluator<double>(network, new MeanSquaredError()).Evaluate(constant).Regression!.Value.RSquared));

        var classifier = Sequential<double>.Mlp([1, 2], Activation.Identity);
        var labels = Dataset.ForClassification("k", [1, 2], [0, 1], ["x"], "class", ["a", "b"]);
        Assert.Null(new Evaluator<double>(classifier, new CrossEntropy()).Evaluate(labels).Regression);
    }
}
