using Backprop.Distributed;

namespace Backprop.Tests.Distributed;

/// <summary>
/// Ranks as threads of this process: an <see cref="ICommunicator"/> whose collectives meet at a barrier,
/// so that the data-parallel logic is tested without MPI. Sums run in rank order on rank 0 and every
/// rank copies the result (the same bits everywhere, as MPI gives).
/// </summary>
internal sealed class ThreadGroup : IDisposable
{
    private readonly Barrier barrier;
    private readonly object?[] slots;
    private object? result;

    private ThreadGroup(int size)
    {
        barrier = new Barrier(size);
        slots = new object?[size];
    }

    /// <summary>Runs <paramref name="body"/> on <paramref name="size"/> threads, one per rank, and returns each rank's result.</summary>
    public static TResult[] Run<TResult>(int size, Func<ICommunicator, TResult> body)
    {
        using var group = new ThreadGroup(size);
        var results = new TResult[size];
        var failures = new Exception?[size];
        var threads = Enumerable.Range(0, size).Select(rank => new Thread(() =>
        {
            try
            {
                results[rank] = body(new Communicator(group, rank));
            }
            catch (Exception e)
            {
                failures[rank] = e;
                group.barrier.RemoveParticipant();
            }
        }, 16 << 20)).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        if (failures.FirstOrDefault(f => f is not null) is { } failure)
        {
            throw new InvalidOperationException("A rank failed.", failure);
        }
        return results;
    }

    private T[] Reduce<T>(int rank, T[] mine, Func<T, T, T> combine)
    {
        slots[rank] = mine;
        barrier.SignalAndWait();
        if (rank == 0)
        {
            var sum = (T[])((T[])slots[0]!).Clone();
            for (var r = 1; r < slots.Length; r++)
            {
                var other = (T[])slots[r]!;
                for (var i = 0; i < sum.Length; i++)
                {
                    sum[i] = combine(sum[i], other[i]);
                }
            }
            result = sum;
        }
        barrier.SignalAndWait();
        var reduced = (T[])result!;
        barrier.SignalAndWait();
        return reduced;
    }

    public void Dispose() => barrier.Dispose();

    private sealed class Communicator(ThreadGroup group, int rank) : ICommunicator
    {
        public int Rank => rank;

        public int Size => group.slots.Length;

        public void AllreduceSum(Span<float> values) => group.Reduce(rank, values.ToArray(), (a, b) => a + b).CopyTo(values);

        public void AllreduceSum(Span<double> values) => group.Reduce(rank, values.ToArray(), (a, b) => a + b).CopyTo(values);

        public void AllreduceMax(Span<long> values) => group.Reduce(rank, values.ToArray(), Math.Max).CopyTo(values);

        public void Broadcast(Span<byte> data, int root)
        {
            group.slots[rank] = data.ToArray();
            group.barrier.SignalAndWait();
            ((byte[])group.slots[root]!).CopyTo(data);
            group.barrier.SignalAndWait();
        }

        public void Barrier() => group.barrier.SignalAndWait();

        public void Abort(int exitCode) => throw new InvalidOperationException($"Rank {rank} aborted with {exitCode}.");

        public void Dispose()
        {
        }
    }
}
