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
    private readonly (int Rank, int Pid)[] peers;
    private long insideSince;

    private MpiCommunicator(MpiLibrary mpi)
    {
        this.mpi = mpi;
        world = mpi.CommWorld;
        mpi.CommSetErrhandler(world, mpi.ErrorsReturn);
        Rank = mpi.CommRank(world);
        Size = mpi.CommSize(world);
        peers = ExchangeProcessIds();
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
        using var watch = Watch();
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
        using var watch = Watch();
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
        using var watch = Watch();
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
        using var watch = Watch();
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
    public void Barrier()
    {
        using var watch = Watch();
        // NOTE: a process waiting here (while rank 0 writes files or measures alone) sleeps rather than
        // spinning, so it leaves the cores to the others.
        mpi.SleepingBarrier(world);
    }

    /// <summary>
    /// Watches, on a background thread, for a process of the run on this machine that ends while this one
    /// waits in a collective call for more than <paramref name="patience"/>: such a wait would never end
    /// (MPI over shared memory does not notice a dead peer). <paramref name="onLost"/> is called once, on
    /// the watching thread, with the lost process's rank and process id; it should end this process.
    /// </summary>
    /// <remarks>
    /// A process on another machine is not watched: there mpirun's own abort (it ends every process when
    /// one dies) and MPI's errors over the network stop the run.
    /// </remarks>
    public void WatchPeers(TimeSpan patience, Action<int, int> onLost)
    {
        ArgumentNullException.ThrowIfNull(onLost);
        var thread = new Thread(() =>
        {
            while (!disposed)
            {
                Thread.Sleep(100);
                var since = Volatile.Read(ref insideSince);
                if (since == 0 || System.Diagnostics.Stopwatch.GetElapsedTime(since) < patience)
                {
                    continue;
                }
                foreach (var (rank, pid) in peers)
                {
                    if (!IsAlive(pid))
                    {
                        onLost(rank, pid);
                        return;
                    }
                }
            }
        })
        { IsBackground = true, Name = "MPI peer watchdog" };
        thread.Start();
    }

    /// <summary>The ranks of this machine's other processes of the run, lowest first, that are still running.</summary>
    public IEnumerable<int> LocalPeersAlive() => peers.Where(p => IsAlive(p.Pid)).Select(p => p.Rank);

    // Linux: a process that ended is gone from /proc, or a zombie until mpirun reaps it.
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return !OperatingSystem.IsLinux();
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    // Every process's id and machine, so that the watchdog knows which peers it can see.
    private (int Rank, int Pid)[] ExchangeProcessIds()
    {
        var ids = new long[2 * Size];
        ids[2 * Rank] = Environment.ProcessId;
        ids[(2 * Rank) + 1] = MachineKey();
        AllreduceMax(ids);
        return [.. Enumerable.Range(0, Size).Where(r => r != Rank && ids[(2 * r) + 1] == ids[(2 * Rank) + 1]).Select(r => (r, (int)ids[2 * r]))];
    }

    // FNV-1a of the host name (string.GetHashCode differs between processes).
    private static long MachineKey()
    {
        var hash = 14695981039346656037UL;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(Environment.MachineName))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return (long)(hash >> 1);
    }

    private Inside Watch() => new(this);

    private readonly ref struct Inside
    {
        private readonly MpiCommunicator owner;

        public Inside(MpiCommunicator owner)
        {
            this.owner = owner;
            Volatile.Write(ref owner.insideSince, System.Diagnostics.Stopwatch.GetTimestamp());
        }

        public void Dispose() => Volatile.Write(ref owner.insideSince, 0);
    }

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
