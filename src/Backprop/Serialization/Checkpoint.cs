using System.Numerics;
using Backprop.Training;

namespace Backprop.Serialization;

/// <summary>
/// A training run saved part-way (docs/model-format.md, "Checkpoint files"): the trainer's state
/// (<see cref="TrainingState{T}"/>: parameters, optimizer state, shuffling, counters, loss history),
/// the options the run was started with and a fingerprint of its training data.
/// </summary>
public abstract class Checkpoint
{
    private protected Checkpoint(IReadOnlyList<string> command, string? dataFingerprint)
    {
        ArgumentNullException.ThrowIfNull(command);
        Command = [.. command];
        DataFingerprint = dataFingerprint;
    }

    /// <summary>
    /// The options the run was started with, as command-line arguments (for <c>backprop train</c>;
    /// opaque to the library), so that resuming needs nothing else.
    /// </summary>
    public IReadOnlyList<string> Command { get; }

    /// <summary>The training data's <see cref="Serialization.DataFingerprint"/>, to check that a resumed run trains on the same data.</summary>
    public string? DataFingerprint { get; }

    /// <summary><c>float32</c> or <c>float64</c>: the type the run trains in.</summary>
    public abstract string ElementType { get; }

    /// <summary>Updates made before the checkpoint was taken.</summary>
    public abstract int Steps { get; }

    /// <summary>The optimizer whose state it holds (<c>gd</c>, <c>momentum</c>, <c>adam</c>).</summary>
    public abstract string OptimizerName { get; }

    /// <summary>How many numbers each saved parameter holds, in order: to check that a run's network fits the state.</summary>
    public abstract IReadOnlyList<int> ParameterSizes { get; }

    /// <summary>The monitors whose state it holds (<c>earlyStopping</c>…), by <see cref="TrainingMonitor{T}.StateName"/>.</summary>
    public abstract IReadOnlyList<string> MonitorNames { get; }

    /// <summary>Saves the checkpoint atomically (see <see cref="CheckpointFile"/>).</summary>
    /// <exception cref="BackpropException">The file cannot be written; a file already there is left as it was.</exception>
    public void Save(string path) => CheckpointFile.Save(this, path);

    /// <summary>Loads a checkpoint file; the result is a <see cref="Checkpoint{T}"/> of float or double.</summary>
    /// <exception cref="BackpropException">The file is missing, unreadable, not a checkpoint, of a newer format, corrupt or inconsistent.</exception>
    public static Checkpoint Load(string path) => CheckpointFile.Load(path);
}

/// <summary>A checkpoint of a run that trains in <typeparamref name="T"/>.</summary>
public sealed class Checkpoint<T> : Checkpoint where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a checkpoint of <paramref name="state"/>.</summary>
    public Checkpoint(TrainingState<T> state, IReadOnlyList<string> command, string? dataFingerprint)
        : base(command, dataFingerprint)
    {
        ArgumentNullException.ThrowIfNull(state);
        State = state;
    }

    /// <summary>The trainer's state: pass it to <c>Trainer.Fit</c> to resume.</summary>
    public TrainingState<T> State { get; }

    /// <inheritdoc/>
    public override string ElementType => typeof(T) == typeof(float) ? "float32" : "float64";

    /// <inheritdoc/>
    public override int Steps => State.Steps;

    /// <inheritdoc/>
    public override string OptimizerName => State.Optimizer.Name;

    /// <inheritdoc/>
    public override IReadOnlyList<int> ParameterSizes => [.. State.Parameters.Select(p => p.Value.Length)];

    /// <inheritdoc/>
    public override IReadOnlyList<string> MonitorNames => [.. State.Monitors.Select(m => m.Key)];
}
