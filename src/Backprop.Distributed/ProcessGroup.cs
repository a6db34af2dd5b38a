using System.Numerics;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Distributed;

/// <summary>
/// The processes of a data-parallel run (<see cref="IProcessGroup"/>) over a communicator: put it in a
/// run's spec (<c>spec with { Distributed = group }</c>) and every process trains its share of every batch
/// with <see cref="DistributedDataParallel{T}"/>.
/// </summary>
/// <example>
/// Under <c>mpirun -np N dotnet app.dll</c>, on every process:
/// <code>
/// using var group = ProcessGroup.StartMpi();
/// var result = new TrainingRun(spec with { Distributed = group }).Run();
/// if (group.IsRoot) { /* print, save the model */ }
/// </code>
/// </example>
public sealed class ProcessGroup(ICommunicator communicator) : IProcessGroup, IDisposable
{
    private readonly ICommunicator communicator = communicator ?? throw new ArgumentNullException(nameof(communicator));

    /// <summary>Starts MPI (<see cref="MpiCommunicator.Start"/>): the group of every process <c>mpirun</c> started.</summary>
    /// <exception cref="BackpropException">MPI cannot be loaded or initialised.</exception>
    public static ProcessGroup StartMpi() => new(MpiCommunicator.Start());

    /// <summary>The processes' communicator.</summary>
    public ICommunicator Communicator => communicator;

    /// <inheritdoc/>
    public int Rank => communicator.Rank;

    /// <inheritdoc/>
    public int Size => communicator.Size;

    /// <summary>Whether this is rank 0: the process that prints and writes models, pictures, reports and checkpoints.</summary>
    public bool IsRoot => communicator.Rank == 0;

    /// <summary>The bucket size of the allreduces of gradients (<see cref="DistributedDataParallel{T}.BucketElements"/>).</summary>
    public int BucketElements { get; init; } = DistributedDataParallel<float>.DefaultBucketElements;

    /// <summary>The data-parallel trainer attached last (its allreduce counters), or null.</summary>
    public object? LastAttached { get; private set; }

    /// <inheritdoc/>
    public void Attach<T>(Trainer<T> trainer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ddp = new DistributedDataParallel<T>(communicator, BucketElements);
        ddp.Attach(trainer);
        LastAttached = ddp;
    }

    /// <inheritdoc/>
    public TrainingState<T>? BroadcastState<T>(TrainingState<T>? state) where T : unmanaged, IFloatingPointIeee754<T>
        => new DistributedDataParallel<T>(communicator).BroadcastState(state);

    /// <inheritdoc/>
    public long Max(long value)
    {
        Span<long> values = [value];
        communicator.AllreduceMax(values);
        return values[0];
    }

    /// <inheritdoc/>
    public void VerifySameParameters<T>(Module<T> model) where T : unmanaged, IFloatingPointIeee754<T>
        => new DistributedDataParallel<T>(communicator).VerifySameParameters(model);

    /// <summary>Rank 0's <paramref name="bytes"/> on every process (others pass anything).</summary>
    public byte[] Broadcast(byte[] bytes) => new DistributedDataParallel<float>(communicator).Broadcast(bytes);

    /// <summary>Waits until every process gets here.</summary>
    public void Barrier() => communicator.Barrier();

    /// <summary>Ends the communicator (MPI_Finalize for MPI).</summary>
    public void Dispose() => communicator.Dispose();
}
