using Backprop.Data;
using Backprop.Training;

namespace Backprop.Plotting;

/// <summary>What the pictures and the report show about a classifier beyond the loss: learning curves, the confusion matrix and the worst mistakes.</summary>
/// <param name="Epochs">Each epoch's training and validation loss and accuracy (<see cref="EpochHistoryMonitor{T}"/>).</param>
/// <param name="Confusion">The confusion matrix of the scored data (test data when there is some, else validation data).</param>
/// <param name="ScoredOn">What <paramref name="Confusion"/> counts, e.g. <c>test</c> or <c>validation</c>.</param>
public sealed record ClassificationRecord(IReadOnlyList<EpochRecord> Epochs, ConfusionMatrix Confusion, string ScoredOn)
{
    /// <summary>The rows misclassified most confidently (<see cref="Misclassification.MostConfident"/>), drawn when <see cref="Images"/> is set.</summary>
    public IReadOnlyList<MisclassifiedRow> Misclassified { get; init; } = [];

    /// <summary>The scored data when its rows are grey-scale images (the rows <see cref="Misclassified"/> indexes); null otherwise.</summary>
    public Dataset? Images { get; init; }

    /// <summary>The height of each image in pixels (rows × <see cref="ImageWidth"/> = the data's inputs).</summary>
    public int ImageHeight { get; init; }

    /// <summary>The width of each image in pixels.</summary>
    public int ImageWidth { get; init; }

    /// <summary>True when the misclassified images can be drawn.</summary>
    public bool HasImages => Images is not null && Misclassified.Count > 0 && ImageHeight > 0 && ImageWidth > 0
        && ImageHeight * ImageWidth == Images.InputCount;
}
