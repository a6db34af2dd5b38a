using System.Numerics;
using Backprop.Training;

namespace Backprop.Runs;

/// <summary>
/// Makes a <see cref="TrainingMonitor{T}"/> for a run once its element type is known: a run may train
/// in float or double (<see cref="RunSpec.Precision"/>), so a watcher that needs the trainer's numbers
/// (checkpoints, gradient health, snapshots for pictures) is attached as a factory.
/// </summary>
public interface IRunMonitorFactory
{
    /// <summary>The monitor for this run's <paramref name="trainer"/>, or null for none.</summary>
    TrainingMonitor<T>? Create<T>(Trainer<T> trainer) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Ready-made <see cref="IRunMonitorFactory"/> instances.</summary>
public static class RunMonitor
{
    /// <summary>Attaches <paramref name="monitor"/> when the run trains in <typeparamref name="TMonitor"/> (and nothing otherwise).</summary>
    public static IRunMonitorFactory Of<TMonitor>(TrainingMonitor<TMonitor> monitor) where TMonitor : unmanaged, IFloatingPointIeee754<TMonitor>
    {
        ArgumentNullException.ThrowIfNull(monitor);
        return new Fixed<TMonitor>(monitor);
    }

    private sealed class Fixed<TMonitor>(TrainingMonitor<TMonitor> monitor) : IRunMonitorFactory where TMonitor : unmanaged, IFloatingPointIeee754<TMonitor>
    {
        public TrainingMonitor<T>? Create<T>(Trainer<T> trainer) where T : unmanaged, IFloatingPointIeee754<T> => monitor as TrainingMonitor<T>;
    }
}
