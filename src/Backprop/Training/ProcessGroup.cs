using System.Numerics;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>
/// The processes that train one run together, data-parallel (<see cref="Runs.RunSpec.Distributed"/>):
/// what a <see cref="Runs.TrainingRun"/> asks of them. Every process runs the same program with the same
/// spec; rank 0 is the one that speaks and writes.
/// </summary>
/// <remarks>
/// The engine keeps no network code: <c>Backprop.Distributed</c>'s <c>ProcessGroup</c> implements this
/// over MPI (or over any of its communicators). Every member is a collective call: every process must make
/// it, in the same order.
/// </remarks>
public interface IProcessGroup
{
    /// <summary>This process's number, 0 … <see cref="Size"/> − 1.</summary>
    int Rank { get; }

    /// <summary>How many processes train together.</summary>
    int Size { get; }

    /// <summary>
    /// Makes <paramref name="trainer"/> train data-parallel over the group (<see cref="Trainer{T}.DataParallel"/>)
    /// and copies rank 0's parameters into every process's network.
    /// </summary>
    void Attach<T>(Trainer<T> trainer) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Rank 0's <paramref name="state"/> on every process (null on rank 0 gives null everywhere).</summary>
    TrainingState<T>? BroadcastState<T>(TrainingState<T>? state) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The largest <paramref name="value"/> over the processes: the same answer on every process.</summary>
    long Max(long value);

    /// <summary>Checks that every process holds the same parameters, bit for bit.</summary>
    /// <exception cref="BackpropException">They differ on some process.</exception>
    void VerifySameParameters<T>(Module<T> model) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>
/// Settles, at the end of every step, whether any process of a data-parallel run asked to stop (a signal
/// reaches processes at different moments; a monitor may run on rank 0 only): then every process stops
/// after the same step, for the same reason. It must be the last monitor of the run.
/// </summary>
/// <remarks>A stop asked for in <see cref="TrainingMonitor{T}.OnGradients"/> (which skips the update) is not settled: it must be asked for on every process alike.</remarks>
public sealed class StopAgreement<T>(IProcessGroup group) : TrainingMonitor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public override void OnStepEnd(Trainer<T> trainer, int step)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(group);
        var local = trainer.PendingStop is { } pending ? (long)pending + 1 : 0;
        var agreed = group.Max(local);
        if (agreed > 0 && local == 0)
        {
            var reason = (StopReason)(agreed - 1);
            trainer.RequestStop(reason, reason == StopReason.Interrupted ? "interrupted" : $"stopped on another process ({reason})");
        }
    }
}
