using System.Numerics;

namespace Backprop.Training;

/// <summary>
/// Counts of (observed class, predicted class) pairs: row i, column j is how many rows of class i the
/// model put in class j. The diagonal holds the correct predictions.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[] counts;

    /// <summary>Creates an empty matrix for the given classes.</summary>
    public ConfusionMatrix(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfLessThan(classNames.Count, 2);
        ClassNames = classNames;
        counts = new long[classNames.Count * classNames.Count];
    }

    /// <summary>The class names, by class index.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of classes.</summary>
    public int Classes => ClassNames.Count;

    /// <summary>How many rows of class <paramref name="observed"/> were predicted as <paramref name="predicted"/>.</summary>
    public long this[int observed, int predicted] => counts[(observed * Classes) + predicted];

    /// <summary>Rows counted.</summary>
    public long Total => counts.Sum();

    /// <summary>The fraction of rows predicted correctly (0 when empty).</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Enumerable.Range(0, Classes).Sum(i => this[i, i]) / Total;

    /// <summary>Counts one row.</summary>
    public void Add(int observed, int predicted)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(observed);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(observed, Classes);
        ArgumentOutOfRangeException.ThrowIfNegative(predicted);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(predicted, Classes);
        counts[(observed * Classes) + predicted]++;
    }

    /// <summary>
    /// Counts the rows whose largest output (the first, on a tie) is their observed class; adds every
    /// row to <paramref name="matrix"/> when given.
    /// </summary>
    /// <param name="outputs">[rows, classes] scores (logits or probabilities), row-major.</param>
    /// <param name="labels">One class index per row.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="matrix">A matrix to add the rows to, or null.</param>
    /// <param name="predicted">Receives each row's predicted class when not empty.</param>
    public static long Count<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> labels, int rows, ConfusionMatrix? matrix = null, Span<int> predicted = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        var classes = outputs.Length / rows;
        long correct = 0;
        for (var r = 0; r < rows; r++)
        {
            var best = ArgMax(outputs.Slice(r * classes, classes));
            var observed = int.CreateSaturating(labels[r]);
            if (best == observed)
            {
                correct++;
            }
            matrix?.Add(observed, best);
            if (!predicted.IsEmpty)
            {
                predicted[r] = best;
            }
        }
        return correct;
    }

    /// <summary>The index of the largest value (the first of equals); NaN is never the largest.</summary>
    public static int ArgMax<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best] || T.IsNaN(values[best]))
            {
                best = i;
            }
        }
        return best;
    }
}
