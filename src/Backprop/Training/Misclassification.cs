using Backprop.Data;

namespace Backprop.Training;

/// <summary>A row a classifier got wrong, and how sure it was.</summary>
/// <param name="Row">The row's index in its data set.</param>
/// <param name="Observed">The row's class.</param>
/// <param name="Predicted">The class the model gave it.</param>
/// <param name="Confidence">The model's probability (softmax) for <paramref name="Predicted"/>.</param>
public readonly record struct MisclassifiedRow(int Row, int Observed, int Predicted, double Confidence);

/// <summary>Finds the rows a classifier got wrong most confidently: the first rows to look at when a model errs.</summary>
public static class Misclassification
{
    /// <summary>
    /// The <paramref name="count"/> misclassified rows with the highest confidence, most confident first
    /// (ties: the earlier row first).
    /// </summary>
    /// <param name="data">The classified rows (their targets are the observed classes).</param>
    /// <param name="predicted">Each row's predicted class (see <c>Evaluator.Evaluate</c>).</param>
    /// <param name="confidence">Each row's probability for its predicted class.</param>
    /// <param name="count">The most rows to return.</param>
    public static IReadOnlyList<MisclassifiedRow> MostConfident(Dataset data, ReadOnlySpan<int> predicted, ReadOnlySpan<double> confidence, int count)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!data.IsClassification || data.TargetCount != 1)
        {
            throw new ArgumentException($"'{data.Name}' is not a classification data set.", nameof(data));
        }
        if (predicted.Length != data.Count || confidence.Length != data.Count)
        {
            throw new ArgumentException($"{data.Count} rows need {data.Count} predictions and confidences; got {predicted.Length} and {confidence.Length}.");
        }
        var wrong = new List<MisclassifiedRow>();
        var targets = data.Targets;
        for (var row = 0; row < data.Count; row++)
        {
            var observed = (int)targets[row];
            if (predicted[row] != observed)
            {
                wrong.Add(new MisclassifiedRow(row, observed, predicted[row], confidence[row]));
            }
        }
        return [.. wrong.OrderByDescending(w => w.Confidence).ThenBy(w => w.Row).Take(count)];
    }
}
