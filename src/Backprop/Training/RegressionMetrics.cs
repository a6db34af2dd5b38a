namespace Backprop.Training;

/// <summary>How close a regression's predictions are to the observed values, over all outputs of all rows.</summary>
/// <param name="Mse">Mean squared error: mean of (predicted − observed)².</param>
/// <param name="Mae">Mean absolute error: mean of |predicted − observed|.</param>
/// <param name="RSquared">
/// Coefficient of determination: 1 − Σ(predicted − observed)² / Σ(observed − mean observed)²; 1 is a
/// perfect fit, 0 no better than predicting the mean, negative worse. NaN when every observed value is the same.
/// </param>
/// <param name="Count">How many values were compared (rows × outputs).</param>
public readonly record struct RegressionMetrics(double Mse, double Mae, double RSquared, long Count)
{
    /// <summary>Root mean squared error: √MSE, in the units of the target.</summary>
    public double Rmse => Math.Sqrt(Mse);

    /// <summary>Sums the errors of many chunks of rows; <see cref="Result"/> gives the metrics.</summary>
    /// <remarks>The observed values' spread is accumulated by Welford's update (a running mean and sum of squared deviations), which does not lose digits as Σy² − (Σy)²/n can.</remarks>
    internal sealed class Accumulator
    {
        private double squared;
        private double absolute;
        private double mean;
        private double deviations;
        private long count;

        public void Add(double predicted, double observed)
        {
            var error = predicted - observed;
            squared += error * error;
            absolute += Math.Abs(error);
            count++;
            var delta = observed - mean;
            mean += delta / count;
            deviations += delta * (observed - mean);
        }

        public RegressionMetrics Result()
            => count == 0 ? new(double.NaN, double.NaN, double.NaN, 0)
                : new(squared / count, absolute / count, deviations > 0 ? 1 - (squared / deviations) : double.NaN, count);
    }
}
