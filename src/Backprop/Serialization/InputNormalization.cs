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
    /// <exception cref="BackpropException">The lists differ in length, are empty, or hold a non-finite mean or a standard deviation that is not finite or is below <see cref="MinStdDev"/>.</exception>
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
            // NOTE: a subnormal or tiny deviation passes "positive and finite" but divides inputs into infinities
            // (and is 0 in float32): the smallest allowed is float32's smallest normal number.
            if (!(stdDev[i] >= MinStdDev) || !double.IsFinite(stdDev[i]))
            {
                throw new BackpropException($"Input normalisation: the standard deviation of input {i + 1} is {stdDev[i].ToString(System.Globalization.CultureInfo.InvariantCulture)}; it must be a finite number of at least {MinStdDev.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
            }
        }
        this.mean = [.. mean];
        this.stdDev = [.. stdDev];
    }

    /// <summary>The smallest standard deviation accepted: float32's smallest normal number, about 1.2e-38.</summary>
    public const double MinStdDev = 1.1754943508222875e-38;

    /// <summary>Number of inputs.</summary>
    public int Count => mean.Length;

    /// <summary>The mean subtracted from each input.</summary>
    public IReadOnlyList<double> Mean => mean;

    /// <summary>The standard deviation each centred input is divided by.</summary>
    public IReadOnlyList<double> StdDev => stdDev;
}
