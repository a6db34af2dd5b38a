using System.Numerics;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>
/// What a <see cref="Trainer{T}"/> needs to train data-parallel: several processes hold the same network,
/// each computes the gradient of its share of every batch (<see cref="DataParallel.Shard"/>), and the
/// shares are summed so that every process takes the same step (<see cref="Trainer{T}.DataParallel"/>).
/// </summary>
/// <remarks>
/// The communication lives outside the engine (the <c>Backprop.Distributed</c> project implements this
/// over MPI); the engine only says which rows a process computes and when numbers are summed.
/// Every process must train the same network on the same data with the same options.
/// </remarks>
public interface IDataParallel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>This process's number, 0 … <see cref="Size"/> − 1.</summary>
    int Rank { get; }

    /// <summary>How many processes train together.</summary>
    int Size { get; }

    /// <summary>The sum of <paramref name="value"/> over every process (the same bits on every process).</summary>
    double Sum(double value);

    /// <summary>
    /// Replaces each parameter's gradient by Σ over processes of <paramref name="weight"/> × that process's
    /// gradient: the same bits on every process, the parameters taken in the same order on every process.
    /// </summary>
    void SumGradients(IReadOnlyList<Parameter<T>> parameters, T weight);
}

/// <summary>How a batch is shared out between the processes of data-parallel training.</summary>
public static class DataParallel
{
    /// <summary>
    /// The rows of a batch of <paramref name="batchRows"/> rows that process <paramref name="rank"/> of
    /// <paramref name="size"/> computes: the contiguous rows from ⌊batchRows·rank/size⌋ up to
    /// ⌊batchRows·(rank+1)/size⌋, so that the shares are as equal as they can be and together are the batch.
    /// </summary>
    public static (int Start, int Count) Shard(int batchRows, int rank, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchRows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, size);
        var start = (int)((long)batchRows * rank / size);
        var end = (int)((long)batchRows * (rank + 1) / size);
        return (start, end - start);
    }
}
