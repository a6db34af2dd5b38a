namespace Backprop.Distributed;

/// <summary>
/// The few collective operations data-parallel training needs, over a group of processes that each
/// run the same program (MPI's <c>MPI_COMM_WORLD</c>). Every process must make the same calls in the
/// same order with the same lengths; a call returns on a process once every process has made it.
/// </summary>
/// <remarks>
/// <see cref="MpiCommunicator"/> is the implementation over MPI. Tests use an in-process one, so the
/// training logic is checked without starting processes.
/// </remarks>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's number in the group, 0 … <see cref="Size"/> − 1 (MPI's rank).</summary>
    int Rank { get; }

    /// <summary>How many processes the group has.</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="values"/> on every process by their element-wise sum over all processes.</summary>
    /// <remarks>Every process receives the same bits (MPI's reduction is computed once per element and shared).</remarks>
    void AllreduceSum(Span<float> values);

    /// <inheritdoc cref="AllreduceSum(Span{float})"/>
    void AllreduceSum(Span<double> values);

    /// <summary>Replaces <paramref name="values"/> on every process by their element-wise maximum over all processes.</summary>
    void AllreduceMax(Span<long> values);

    /// <summary>Copies <paramref name="data"/> of process <paramref name="root"/> into <paramref name="data"/> on every other process.</summary>
    void Broadcast(Span<byte> data, int root);

    /// <summary>Returns once every process has called it.</summary>
    void Barrier();

    /// <summary>Ends every process of the group at once with <paramref name="exitCode"/> (MPI_Abort); does not return.</summary>
    void Abort(int exitCode);
}
