namespace Backprop.Serialization;

/// <summary>
/// How a model standardises its inputs before the first layer: input i becomes (xᵢ − Meanᵢ) / StdDevᵢ.
/// A model file carries it so that predictions on raw data use the same scaling as training did.
/// </summary>
public sealed class InputNormalization
{
    private readonly double[] mean;
    private readonly double[] stdDev;

    /// <summary>Creates the normalisation from one mean and one standard deviation per input.</summary>
    /// <exception cref="BackpropException">The lists differ in length, are empty, or hold a non-finite mean or a standard deviation that is not positive and finite.</exception>
    public InputNormalization(IReadOnlyList<double> mean, IReadOnlyList<double> stdDev)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(stdDev);
        if (mean.Count == 0 || mean.Count != stdDev.Count)
        {
            throw new BackpropException($"Input normalisation needs one mean and one standard deviation per input; got {mean.Count} means and {stdDev.Count} standard deviations.");
        }
        for (var i = 0; i < mean.Count; i++)
        {
            if (!double.IsFinite(mean[i]))
            {
                throw new BackpropException($"Input normalisation: the mean of input {i + 1} is {mean[i]}; it must be a finite number.");
            }
            if (!(stdDev[i] > 0) || !double.IsFinite(stdDev[i]))
            {
                throw new BackpropException($"Input normalisation: the standard deviation of input {i + 1} is {stdDev[i]}; it must be a positive finite number.");
            }
        }
        this.mean = [.. mean];
        this.stdDev = [.. stdDev];
    }

    /// <summary>Number of inputs.</summary>
    public int Count => mean.Length;

    /// <summary>The mean subtracted from each input.</summary>
    public IReadOnlyList<double> Mean => mean;

    /// <summary>The standard deviation each centred input is divided by.</summary>
    public IReadOnlyList<double> StdDev => stdDev;
}
