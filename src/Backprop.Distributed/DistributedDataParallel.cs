using System.Buffers.Binary;
using System.Diagnostics;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Backprop.Nn;
using Backprop.Serialization;
using Backprop.Training;

namespace Backprop.Distributed;

/// <summary>
/// Data-parallel training as PyTorch's DistributedDataParallel does it: every process holds the same
/// network, computes the gradient of its share of every batch, and the gradients are summed by
/// allreduce in buckets, so that every process applies the same optimizer step.
/// </summary>
/// <remarks>
/// <para>Use: start every process the same way (<c>mpirun -np N</c>), make the same network, optimizer and
/// data on each, then <see cref="Attach"/> to the trainer (rank 0's parameters are copied to every process)
/// and call <c>Fit</c> as usual. Only rank 0 (<see cref="IsRoot"/>) should print or write files.</para>
/// <para>What each process computes: the rows ⌊B·r/N⌋ … ⌊B·(r+1)/N⌋ − 1 of every batch of B rows, in the
/// batch order the single-process run would use (the same seeded shuffle on every process), so that the
/// union of the shares is the single-process batch. Its gradient is weighted by its share of the rows for a
/// mean-reduced loss (1 for SSR) and the weighted gradients are summed: the single-process batch's
/// gradient, up to the order of the additions over rows (docs/distributed.md states the bound).</para>
/// <para>Buckets: the gradients, in parameter order, are packed into buffers of <see cref="BucketElements"/>
/// numbers and each buffer is summed by one allreduce, the same buckets in the same order on every process.
/// Unlike PyTorch, the allreduces start after the whole backward pass (no overlap with it).</para>
/// </remarks>
public sealed class DistributedDataParallel<T> : IDataParallel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The default bucket: 1 Mi numbers (4 MB of float), PyTorch's order of size (25 MB).</summary>
    public const int DefaultBucketElements = 1 << 20;

    private readonly ICommunicator communicator;
    private readonly double[] scalar = new double[1];
    private T[] bucket = [];
    private Segment[][] plan = [];
    private IReadOnlyList<Parameter<T>>? planned;

    /// <summary>Data-parallel training over <paramref name="communicator"/>'s processes.</summary>
    public DistributedDataParallel(ICommunicator communicator, int bucketElements = DefaultBucketElements)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bucketElements);
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            throw new NotSupportedException($"Data-parallel training sums float or double gradients, not {typeof(T).Name}.");
        }
        this.communicator = communicator;
        BucketElements = bucketElements;
    }

    /// <summary>The processes training together.</summary>
    public ICommunicator Communicator => communicator;

    /// <inheritdoc/>
    public int Rank => communicator.Rank;

    /// <inheritdoc/>
    public int Size => communicator.Size;

    /// <summary>Whether this is rank 0: the process that prints and writes models, pictures, reports and checkpoints.</summary>
    public bool IsRoot => communicator.Rank == 0;

    /// <summary>The most numbers summed by one allreduce of gradients.</summary>
    public int BucketElements { get; }

    /// <summary>Allreduces of gradients so far.</summary>
    public long Allreduces { get; private set; }

    /// <summary>Bytes of gradients this process has contributed to allreduces so far.</summary>
    public long AllreduceBytes { get; private set; }

    /// <summary>Time spent in allreduces of gradients so far (waiting for slower processes included).</summary>
    public TimeSpan AllreduceTime => Stopwatch.GetElapsedTime(0, allreduceTicks);

    private long allreduceTicks;

    /// <summary>
    /// Makes <paramref name="trainer"/> train data-parallel with this group, and copies rank 0's parameters
    /// into every process's network, so that every process starts from the same numbers.
    /// </summary>
    public void Attach(Trainer<T> trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        BroadcastParameters(trainer.Model);
        trainer.DataParallel = this;
    }

    /// <summary>Copies rank 0's parameters into every process's <paramref name="model"/>.</summary>
    public void BroadcastParameters(Module<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var p in model.Parameters())
        {
            communicator.Broadcast(MemoryMarshal.AsBytes(p.Data), 0);
        }
    }

    /// <summary>
    /// Rank 0's training state (parameters, optimizer state, shuffling, counters) on every process: what
    /// a resumed run starts from. Other processes' <paramref name="state"/> is ignored; null on rank 0 gives null everywhere.
    /// </summary>
    public TrainingState<T>? BroadcastState(TrainingState<T>? state)
    {
        var bytes = IsRoot && state is not null ? CheckpointFile.ToBytes(new Checkpoint<T>(state, [], null)) : [];
        bytes = Broadcast(bytes);
        return bytes.Length == 0 ? null : ((Checkpoint<T>)CheckpointFile.FromBytes(bytes, "the state rank 0 sent")).State;
    }

    /// <summary>Rank 0's <paramref name="bytes"/> on every process (others pass anything).</summary>
    public byte[] Broadcast(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, bytes.LongLength);
        communicator.Broadcast(length, 0);
        var count = BinaryPrimitives.ReadInt64LittleEndian(length);
        var result = IsRoot ? bytes : new byte[count];
        communicator.Broadcast(result, 0);
        return result;
    }

    /// <summary>Whether <paramref name="local"/> is true on any process: the same answer on every process.</summary>
    public bool Any(bool local)
    {
        Span<long> flag = [local ? 1 : 0];
        communicator.AllreduceMax(flag);
        return flag[0] != 0;
    }

    /// <summary>
    /// Checks that every process holds the same parameters, bit for bit (a SHA-256 of them against rank 0's).
    /// </summary>
    /// <exception cref="BackpropException">They differ on some process.</exception>
    public void VerifySameParameters(Module<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in model.Parameters())
        {
            hash.AppendData(MemoryMarshal.AsBytes((ReadOnlySpan<T>)p.Data));
        }
        var mine = hash.GetHashAndReset();
        var root = Broadcast(mine);
        if (Any(!root.AsSpan().SequenceEqual(mine)))
        {
            throw new BackpropException($"The {Size} processes' parameters are not the same after training: the processes did not train the same network on the same data with the same options.");
        }
    }

    /// <inheritdoc/>
    public double Sum(double value)
    {
        scalar[0] = value;
        communicator.AllreduceSum(scalar);
        return scalar[0];
    }

    /// <inheritdoc/>
    public void SumGradients(IReadOnlyList<Parameter<T>> parameters, T weight)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!ReferenceEquals(parameters, planned))
        {
            Plan(parameters);
        }
        foreach (var segments in plan)
        {
            var filled = 0;
            foreach (var s in segments)
            {
                var source = parameters[s.Parameter].Grad!.Data.Slice(s.Offset, s.Count);
                TensorPrimitives.Multiply(source, weight, bucket.AsSpan(s.BucketOffset, s.Count));
                filled = s.BucketOffset + s.Count;
            }
            var start = Stopwatch.GetTimestamp();
            if (typeof(T) == typeof(float))
            {
                communicator.AllreduceSum(MemoryMarshal.Cast<T, float>(bucket.AsSpan(0, filled)));
            }
            else
            {
                communicator.AllreduceSum(MemoryMarshal.Cast<T, double>(bucket.AsSpan(0, filled)));
            }
            allreduceTicks += Stopwatch.GetTimestamp() - start;
            Allreduces++;
            AllreduceBytes += (long)filled * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            foreach (var s in segments)
            {
                bucket.AsSpan(s.BucketOffset, s.Count).CopyTo(parameters[s.Parameter].Grad!.Data.Slice(s.Offset, s.Count));
            }
        }
    }

    // The gradients laid end to end in parameter order, cut into buckets: the same cuts on every process.
    private void Plan(IReadOnlyList<Parameter<T>> parameters)
    {
        var buckets = new List<Segment[]>();
        var current = new List<Segment>();
        var filled = 0;
        for (var i = 0; i < parameters.Count; i++)
        {
            // A parameter the loss does not depend on has no gradient, on every process alike.
            for (var offset = 0; parameters[i].Grad is not null && offset < parameters[i].Length;)
            {
                var count = Math.Min(parameters[i].Length - offset, BucketElements - filled);
                current.Add(new Segment(i, offset, filled, count));
                (offset, filled) = (offset + count, filled + count);
                if (filled == BucketElements)
                {
                    (buckets, current, filled) = (Add(buckets, current), [], 0);
                }
            }
        }
        if (current.Count > 0)
        {
            buckets.Add([.. current]);
        }
        bucket = new T[buckets.Count == 0 ? 0 : buckets.Max(b => b[^1].BucketOffset + b[^1].Count)];
        plan = [.. buckets];
        planned = parameters;

        static List<Segment[]> Add(List<Segment[]> buckets, List<Segment> segments)
        {
            buckets.Add([.. segments]);
            return buckets;
        }
    }

    private readonly record struct Segment(int Parameter, int Offset, int BucketOffset, int Count);
}
