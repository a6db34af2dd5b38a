using System.Numerics;
using Backprop.Optim;

namespace Backprop.Training;

/// <summary>
/// Everything a <see cref="Trainer{T}"/> needs to continue a run exactly where it was: the parameters,
/// the optimizer's state, the shuffling generator and the position in the epoch's shuffled order, the
/// step and epoch counts and the loss history. Resuming from it (<see cref="Trainer{T}.Fit(Tensors.Tensor{T}, Tensors.Tensor{T}, TrainingOptions?, IReadOnlyList{TrainingMonitor{T}}, TrainingState{T}?)"/>)
/// gives the same parameters, bit for bit, as a run that was never stopped.
/// </summary>
/// <remarks>Taken by <see cref="Trainer{T}.CaptureState"/>; saved by <c>Backprop.Serialization.CheckpointFile</c>.</remarks>
public sealed record TrainingState<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Updates made so far.</summary>
    public required int Steps { get; init; }

    /// <summary>The epoch the next step belongs to, 1 for the first.</summary>
    public required int Epoch { get; init; }

    /// <summary>The loss on all the data at the starting values (the run's, not the resumed part's).</summary>
    public required double InitialLoss { get; init; }

    /// <summary>The losses so far, as the run keeps them (bounded: see <see cref="Training.LossHistory"/>).</summary>
    public required LossHistory LossHistory { get; init; }

    /// <summary>The shuffling generator, ready for the next epoch's shuffle.</summary>
    public required RngState ShuffleRng { get; init; }

    /// <summary>The current epoch's order of the rows (0 … rows − 1).</summary>
    public required IReadOnlyList<int> ShuffleOrder { get; init; }

    /// <summary>How many rows of <see cref="ShuffleOrder"/> this epoch has used; the row count when the next step starts a new epoch.</summary>
    public required int BatchPosition { get; init; }

    /// <summary>A stopping rule that already held (training resumed from here stops at once); null while training goes on.</summary>
    public StopReason? Finished { get; init; }

    /// <summary>The optimizer's state.</summary>
    public required OptimizerState<T> Optimizer { get; init; }

    /// <summary>Every parameter's numbers, by parameter name, in <see cref="Nn.Module{T}.Parameters"/> order.</summary>
    public required IReadOnlyList<KeyValuePair<string, T[]>> Parameters { get; init; }

    /// <summary>Every buffer's numbers (BatchNorm's running statistics), by name, in <see cref="Nn.Module{T}.Buffers"/> order.</summary>
    public IReadOnlyList<KeyValuePair<string, T[]>> Buffers { get; init; } = [];

    /// <summary>Every random generator's state (Dropout's masks), by name, in <see cref="Nn.Module{T}.Generators"/> order.</summary>
    public IReadOnlyList<KeyValuePair<string, RngState>> Generators { get; init; } = [];

    /// <summary>The monitors' states (<see cref="TrainingMonitor{T}.SaveState"/>: early stopping's best value, wait and best weights), by <see cref="TrainingMonitor{T}.StateName"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, MonitorState<T>>> Monitors { get; init; } = [];
}
