using System.Globalization;
using Backprop.Data;
using Backprop.Serialization;

namespace Backprop.Runs;

/// <summary>
/// The data of a run: the rows it trains on, and optionally rows held out for validation (scored
/// after every epoch) and test rows (scored once at the end), with the input standardisation fitted
/// on the training rows when there is one.
/// </summary>
/// <param name="Train">The training rows (standardised when <paramref name="Standardization"/> is set).</param>
/// <param name="Validation">Rows scored after every epoch, or null.</param>
/// <param name="Test">Rows scored once after training, or null.</param>
/// <param name="Standardization">The standardisation applied to every set, fitted on the training rows; null when inputs are used as given.</param>
public sealed record RunData(Dataset Train, Dataset? Validation = null, Dataset? Test = null, Standardization? Standardization = null)
{
    /// <summary>
    /// Prepares the data of a run: the first <paramref name="limit"/> rows of <paramref name="train"/>
    /// and <paramref name="test"/>; a seeded random <paramref name="validationFraction"/> of the training
    /// rows held out; and, with <paramref name="standardize"/>, every input rescaled to mean 0 and
    /// deviation 1 as measured on the remaining training rows only.
    /// </summary>
    /// <exception cref="BackpropException">The validation fraction leaves no rows for validation or for training, or is not in [0, 1).</exception>
    public static RunData Prepare(Dataset train, Dataset? test = null, double validationFraction = 0, ulong seed = 1, bool standardize = false, int? limit = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (!(validationFraction >= 0 && validationFraction < 1))
        {
            throw new BackpropException($"The validation fraction must be from 0 to below 1; got {validationFraction.ToString(CultureInfo.InvariantCulture)}.");
        }
        if (limit is { } m)
        {
            train = train.Take(m);
            test = test?.Take(m);
        }
        Dataset? held = null;
        if (validationFraction > 0)
        {
            var rows = (int)Math.Round(validationFraction * train.Count);
            if (rows < 1 || rows >= train.Count)
            {
                throw new BackpropException($"--validation {validationFraction.ToString(CultureInfo.InvariantCulture)} of {train.Count} rows leaves {rows} for validation and {train.Count - rows} for training; both need at least one.");
            }
            (train, held) = train.Split(rows, seed);
        }
        Standardization? scaling = null;
        if (standardize)
        {
            scaling = train.FitStandardization();
            train = train.Standardize(scaling);
            held = held?.Standardize(scaling);
            test = test?.Standardize(scaling);
        }
        return new RunData(train, held, test, scaling);
    }

    /// <summary>The standardisation as a model file keeps it (applied to every input before the first layer), or null.</summary>
    public InputNormalization? Normalization => Standardization is { } s ? new InputNormalization(s.Means, s.Deviations) : null;

    /// <summary>The height and width in pixels when every row is a grey-scale image (e.g. 28 × 28 for Fashion-MNIST); null otherwise.</summary>
    public (int Height, int Width)? ImageSize { get; init; }

    /// <summary>Whether the targets are class labels.</summary>
    public bool IsClassification => Train.IsClassification;
}
