using Backprop.Data;
using Backprop.Losses;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>Everything <c>backprop train</c> was asked to do, checked.</summary>
internal sealed record TrainSettings(
    Dataset Data,
    int[] Layers,
    Activation Activation,
    Loss Loss,
    string Optimizer,
    double LearningRate,
    TrainingOptions Options,
    ulong Seed,
    string Init,
    string[]? Only,
    int? Stage,
    bool Json)
{
    /// <summary>The training rows (<see cref="Data"/>) with the validation and test rows, when there are any.</summary>
    public DataSplits Splits { get; init; } = new(Data, null, null, null);

    /// <summary>True to train in float rather than double (classification only).</summary>
    public bool Float { get; init; }
}
