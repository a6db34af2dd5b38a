namespace Backprop.Distributed;

/// <summary>
/// <see cref="ICommunicator"/> over MPI's <c>MPI_COMM_WORLD</c>: every process started by
/// <c>mpirun -np N</c>. MPI is initialised by <see cref="Start"/> and finalised by <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// Errors of MPI calls come back as <see cref="BackpropException"/>s (the communicator uses
/// <c>MPI_ERRORS_RETURN</c>) rather than ending the process inside MPI.
/// </remarks>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    private static int started;
    private readonly MpiLibrary mpi;
    private readonly nint world;
    private bool disposed;

    private MpiCommunicator(MpiLibrary mpi)
    {
        this.mpi = mpi;
        world = mpi.CommWorld;
        mpi.CommSetErrhandler(world, mpi.ErrorsReturn);
        Rank = mpi.CommRank(world);
        Size = mpi.CommSize(world);
    }

    /// <summary>
    /// Whether this process was started by an MPI launcher (<c>mpirun</c>, <c>mpiexec</c>, <c>srun</c>):
    /// Open MPI sets <c>OMPI_COMM_WORLD_RANK</c>, MPICH and Slurm's PMI set <c>PMI_RANK</c>, PMIx sets <c>PMIX_RANK</c>.
    /// </summary>
    public static bool StartedByLauncher
        => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK") is not null
            || Environment.GetEnvironmentVariable("PMI_RANK") is not null
            || Environment.GetEnvironmentVariable("PMIX_RANK") is not null;

    /// <summary>Loads MPI and initialises it (once per process); every process of the run must call it.</summary>
    /// <exception cref="BackpropException">MPI cannot be loaded or initialised, or was started already.</exception>
    public static MpiCommunicator Start()
    {
        if (Interlocked.Exchange(ref started, 1) != 0)
        {
            throw new BackpropException("MPI can be started only once in a process.");
        }
        var mpi = MpiLibrary.Load();
        if (!mpi.IsInitialized())
        {
            // NOTE: training and its monitors may run on another thread than the one that started MPI
            // (the command trains on a worker thread), so MPI must allow calls from any one thread at a time.
            var code = mpi.InitThread(MpiLibrary.ThreadMultiple, out var provided);
            mpi.Check(code, "MPI_Init_thread");
            if (provided < MpiLibrary.ThreadSerialized)
            {
                throw new BackpropException($"{mpi.Name} does not allow MPI calls from more than one thread (it provides thread level {provided}).");
            }
        }
        return new MpiCommunicator(mpi);
    }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <summary>The MPI library in use (<c>libmpi.so.40</c> for Open MPI).</summary>
    public string LibraryName => mpi.Name;

    /// <inheritdoc/>
    public void AllreduceSum(Span<float> values)
    {
        fixed (float* p = values)
        {
            for (var done = 0; done < values.Length;)
            {
                var count = Math.Min(values.Length - done, MaxCount);
                mpi.AllreduceInPlace(p + done, count, mpi.Float, mpi.Sum, world);
                done += count;
            }
        }
    }

    /// <inheritdoc/>
    public void AllreduceSum(Span<double> values)
    {
        fixed (double* p = values)
        {
            for (var done = 0; done < values.Length;)
            {
                var count = Math.Min(values.Length - done, MaxCount);
                mpi.AllreduceInPlace(p + done, count, mpi.Double, mpi.Sum, world);
                done += count;
            }
        }
    }

    /// <inheritdoc/>
    public void AllreduceMax(Span<long> values)
    {
        fixed (long* p = values)
        {
            for (var done = 0; done < values.Length;)
            {
                var count = Math.Min(values.Length - done, MaxCount);
                mpi.AllreduceInPlace(p + done, count, mpi.LongLong, mpi.Max, world);
                done += count;
            }
        }
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> data, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        fixed (byte* p = data)
        {
            for (var done = 0; done < data.Length;)
            {
                var count = Math.Min(data.Length - done, MaxCount);
                mpi.Bcast(p + done, count, mpi.Byte, root, world);
                done += count;
            }
        }
    }

    /// <inheritdoc/>
    public void Barrier() => mpi.Barrier(world);

    /// <inheritdoc/>
    public void Abort(int exitCode)
    {
        mpi.Abort(world, exitCode);
        Environment.Exit(exitCode);
    }

    // MPI counts are ints; larger buffers go in pieces (the same pieces on every process).
    private const int MaxCount = 1 << 30;

    /// <summary>Finalises MPI (every process must, after its last collective call).</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        if (!mpi.IsFinalized())
        {
            mpi.FinalizeMpi();
        }
    }
}
