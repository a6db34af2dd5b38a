using Backprop.Data;
using Backprop.Nn;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Plotting;

/// <summary>Everything the pictures and the report show about one training run.</summary>
/// <param name="Data">The data trained on (its column names label the axes).</param>
/// <param name="Recorder">The snapshots of the run; training must have ended.</param>
/// <param name="LossName">The loss's short name, e.g. <c>SSR</c>.</param>
/// <param name="IsClassification">Whether targets are class indices (outputs are then class scores).</param>
/// <param name="Network">The network in words, e.g. <c>Dense(1 → 2, SoftPlus) → Dense(2 → 1, Identity)</c>.</param>
/// <param name="Settings">Settings to show, as name and value, e.g. ("learning rate", "0.1").</param>
public sealed record TrainingRecord(
    Dataset Data,
    SnapshotRecorder<double> Recorder,
    string LossName,
    bool IsClassification,
    string Network,
    IReadOnlyList<KeyValuePair<string, string>> Settings)
{
    /// <summary>For a classifier: learning curves, the confusion matrix and the worst mistakes, drawn as pictures of their own; null otherwise.</summary>
    public ClassificationRecord? Classification { get; init; }

    /// <summary>Each epoch's training and validation figures (<see cref="EpochHistoryMonitor{T}"/>); a regression with validation rows draws them as <c>epochs</c>.</summary>
    public IReadOnlyList<EpochRecord> Epochs { get; init; } = [];

    /// <summary>True for a run that is not a classifier's and has a validation loss per epoch: it gets an <c>epochs</c> picture of its own.</summary>
    public bool HasEpochCurves => Classification is null && Epochs.Any(e => e.ValidationLoss is not null);

    /// <summary>The most data rows a predicted-against-observed probe holds.</summary>
    public const int MaxProbeRows = 1000;

    /// <summary>Points on the fitted curve.</summary>
    public const int CurvePoints = 121;

    /// <summary>
    /// The order to list the recorded numbers in: the lesson's (w1 b1 w2 b2 w3 w4 b3) when they are
    /// the lesson's, storage order otherwise.
    /// </summary>
    public IReadOnlyList<int> ValueOrder => Order(Recorder.ValueNames);

    /// <summary>The order to list the gradient groups in (the lesson's for its seven numbers).</summary>
    public IReadOnlyList<int> GradientOrder => Order(Recorder.GradientGroups);

    private static int[] Order(IReadOnlyList<string> names)
    {
        var lesson = Lesson.ParameterNames;
        var indices = Enumerable.Range(0, names.Count);
        return names.Count == lesson.Count && names.All(lesson.Contains)
            ? [.. indices.OrderBy(i => lesson.ToList().IndexOf(names[i]))]
            : [.. indices];
    }

    /// <summary>The result of the run.</summary>
    public TrainingResult Result => Recorder.Result ?? throw new InvalidOperationException("Training has not ended: the recorder has no result yet.");

    /// <summary>
    /// True when the fit is drawn as a curve over the input range (one input, one value predicted);
    /// false when it is drawn as predicted against observed.
    /// </summary>
    public bool IsCurve => IsCurveFor(Data, IsClassification);

    /// <summary>
    /// The inputs a <see cref="SnapshotRecorder{T}"/> should record outputs on for this data: for one
    /// input and one value predicted, <see cref="CurvePoints"/> evenly spaced points from the smallest
    /// input to the largest; otherwise the data's first rows (at most <see cref="MaxProbeRows"/>).
    /// </summary>
    public static Tensor<double> Probe(Dataset data, bool isClassification)
    {
        ArgumentNullException.ThrowIfNull(data);
        var inputs = data.Inputs;
        if (IsCurveFor(data, isClassification))
        {
            var (low, high) = (double.PositiveInfinity, double.NegativeInfinity);
            foreach (var x in inputs)
            {
                (low, high) = (Math.Min(low, x), Math.Max(high, x));
            }
            if (!(high > low))
            {
                (low, high) = (low - 1, high + 1);
            }
            var grid = new double[CurvePoints];
            for (var i = 0; i < grid.Length; i++)
            {
                grid[i] = low + ((high - low) * i / (CurvePoints - 1));
            }
            return new Tensor<double>(grid, new Shape(CurvePoints, 1));
        }
        var rows = Math.Min(data.Count, MaxProbeRows);
        return new Tensor<double>(inputs[..(rows * data.InputCount)], new Shape(rows, data.InputCount));
    }

    private static bool IsCurveFor(Dataset data, bool isClassification)
        => data.InputCount == 1 && data.TargetCount == 1 && !isClassification;
}
