using System.Runtime.InteropServices;

namespace Backprop.Distributed;

/// <summary>
/// The MPI functions and predefined handles Backprop uses, bound at run time from the system's
/// <c>libmpi</c> (nothing is loaded until a distributed run starts).
/// </summary>
/// <remarks>
/// NOTE: MPI fixes the C API but not the ABI. Open MPI's handles (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>,
/// <c>MPI_SUM</c>…) are the addresses of global objects that <c>libmpi.so.40</c> exports, so they are read
/// with <see cref="NativeLibrary.GetExport"/>; MPICH's (<c>libmpi.so.12</c>) are integer constants from its
/// <c>mpi.h</c>, passed in the same argument registers. Only the Open MPI table is tested (Debian's
/// <c>openmpi-bin</c>); the MPICH table is there so that adding MPICH is a table, not a new binding.
/// MPI.NET is not used: it binds Microsoft MPI's <c>msmpi.dll</c>, whose handles are integers.
/// </remarks>
internal sealed unsafe class MpiLibrary
{
    private readonly delegate* unmanaged<int*, byte***, int, int*, int> initThread;
    private readonly delegate* unmanaged<int*, int> initialized;
    private readonly delegate* unmanaged<int*, int> finalized;
    private readonly delegate* unmanaged<int> finalize;
    private readonly delegate* unmanaged<nint, int*, int> commRank;
    private readonly delegate* unmanaged<nint, int*, int> commSize;
    private readonly delegate* unmanaged<nint, nint, int> commSetErrhandler;
    private readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> allreduce;
    private readonly delegate* unmanaged<void*, int, nint, int, nint, int> bcast;
    private readonly delegate* unmanaged<nint, int> barrier;
    private readonly delegate* unmanaged<nint, nint*, int> ibarrier;
    private readonly delegate* unmanaged<nint*, int*, void*, int> test;
    private readonly delegate* unmanaged<nint, int, int> abort;
    private readonly delegate* unmanaged<int, byte*, int*, int> errorString;

    private MpiLibrary(nint library, string name, bool openMpi)
    {
        Name = name;
        initThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export(library, "MPI_Init_thread");
        initialized = (delegate* unmanaged<int*, int>)Export(library, "MPI_Initialized");
        finalized = (delegate* unmanaged<int*, int>)Export(library, "MPI_Finalized");
        finalize = (delegate* unmanaged<int>)Export(library, "MPI_Finalize");
        commRank = (delegate* unmanaged<nint, int*, int>)Export(library, "MPI_Comm_rank");
        commSize = (delegate* unmanaged<nint, int*, int>)Export(library, "MPI_Comm_size");
        commSetErrhandler = (delegate* unmanaged<nint, nint, int>)Export(library, "MPI_Comm_set_errhandler");
        allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export(library, "MPI_Allreduce");
        bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export(library, "MPI_Bcast");
        barrier = (delegate* unmanaged<nint, int>)Export(library, "MPI_Barrier");
        ibarrier = (delegate* unmanaged<nint, nint*, int>)Export(library, "MPI_Ibarrier");
        test = (delegate* unmanaged<nint*, int*, void*, int>)Export(library, "MPI_Test");
        abort = (delegate* unmanaged<nint, int, int>)Export(library, "MPI_Abort");
        errorString = (delegate* unmanaged<int, byte*, int*, int>)Export(library, "MPI_Error_string");
        if (openMpi)
        {
            CommWorld = Export(library, "ompi_mpi_comm_world");
            Byte = Export(library, "ompi_mpi_byte");
            Float = Export(library, "ompi_mpi_float");
            Double = Export(library, "ompi_mpi_double");
            LongLong = Export(library, "ompi_mpi_long_long_int");
            Sum = Export(library, "ompi_mpi_op_sum");
            Max = Export(library, "ompi_mpi_op_max");
            ErrorsReturn = Export(library, "ompi_mpi_errors_return");
            InPlace = 1;
            StatusIgnore = 0;
        }
        else
        {
            // MPICH's mpi.h.
            CommWorld = 0x44000000;
            Byte = 0x4c00010d;
            Float = 0x4c00040a;
            Double = 0x4c00080b;
            LongLong = 0x4c000809;
            Sum = 0x58000003;
            Max = 0x58000001;
            ErrorsReturn = 0x54000001;
            InPlace = -1;
            StatusIgnore = 1;
        }
    }

    /// <summary>The file the library was loaded from.</summary>
    public string Name { get; }

    /// <summary>MPI_COMM_WORLD.</summary>
    public nint CommWorld { get; }

    /// <summary>MPI_BYTE.</summary>
    public nint Byte { get; }

    /// <summary>MPI_FLOAT.</summary>
    public nint Float { get; }

    /// <summary>MPI_DOUBLE.</summary>
    public nint Double { get; }

    /// <summary>MPI_LONG_LONG_INT.</summary>
    public nint LongLong { get; }

    /// <summary>MPI_SUM.</summary>
    public nint Sum { get; }

    /// <summary>MPI_MAX.</summary>
    public nint Max { get; }

    /// <summary>MPI_ERRORS_RETURN: calls return an error code instead of ending every process.</summary>
    public nint ErrorsReturn { get; }

    /// <summary>MPI_IN_PLACE.</summary>
    public nint InPlace { get; }

    /// <summary>MPI_STATUS_IGNORE.</summary>
    public nint StatusIgnore { get; }

    /// <summary>MPI_THREAD_MULTIPLE (the same value in Open MPI and MPICH).</summary>
    public const int ThreadMultiple = 3;

    /// <summary>MPI_THREAD_SERIALIZED.</summary>
    public const int ThreadSerialized = 2;

    /// <summary>Loads Open MPI's <c>libmpi.so.40</c>, else MPICH's <c>libmpi.so.12</c>.</summary>
    /// <exception cref="BackpropException">Neither can be loaded.</exception>
    public static MpiLibrary Load()
    {
        foreach (var (name, openMpi) in new[] { ("libmpi.so.40", true), ("libmpi.so.12", false) })
        {
            if (NativeLibrary.TryLoad(name, out var library))
            {
                return new MpiLibrary(library, name, openMpi);
            }
        }
        throw new BackpropException("Cannot load MPI (libmpi.so.40 of Open MPI): install Open MPI (Debian: apt-get install openmpi-bin) to train on several processes.");
    }

    private static nint Export(nint library, string name)
        => NativeLibrary.TryGetExport(library, name, out var address) ? address
            : throw new BackpropException($"The MPI library has no {name}: it is not Open MPI 4 or later, nor MPICH 3 or later.");

    public int InitThread(int required, out int provided)
    {
        int argc = 0, got = 0;
        byte** argv = null;
        var code = initThread(&argc, &argv, required, &got);
        provided = got;
        return code;
    }

    public bool IsInitialized()
    {
        int flag = 0;
        Check(initialized(&flag), "MPI_Initialized");
        return flag != 0;
    }

    public bool IsFinalized()
    {
        int flag = 0;
        Check(finalized(&flag), "MPI_Finalized");
        return flag != 0;
    }

    public void FinalizeMpi() => Check(finalize(), "MPI_Finalize");

    public int CommRank(nint comm)
    {
        int rank = 0;
        Check(commRank(comm, &rank), "MPI_Comm_rank");
        return rank;
    }

    public int CommSize(nint comm)
    {
        int size = 0;
        Check(commSize(comm, &size), "MPI_Comm_size");
        return size;
    }

    public void CommSetErrhandler(nint comm, nint handler) => Check(commSetErrhandler(comm, handler), "MPI_Comm_set_errhandler");

    public void AllreduceInPlace(void* buffer, int count, nint type, nint op, nint comm)
        => Check(allreduce((void*)InPlace, buffer, count, type, op, comm), "MPI_Allreduce");

    public void Bcast(void* buffer, int count, nint type, int root, nint comm) => Check(bcast(buffer, count, type, root, comm), "MPI_Bcast");

    public void Barrier(nint comm) => Check(barrier(comm), "MPI_Barrier");

    /// <summary>A barrier that sleeps between checks instead of spinning (MPI_Ibarrier, then MPI_Test every millisecond).</summary>
    public void SleepingBarrier(nint comm)
    {
        nint request = 0;
        Check(ibarrier(comm, &request), "MPI_Ibarrier");
        int done = 0;
        while (true)
        {
            Check(test(&request, &done, (void*)StatusIgnore), "MPI_Test");
            if (done != 0)
            {
                return;
            }
            Thread.Sleep(1);
        }
    }

    public void Abort(nint comm, int code) => abort(comm, code);

    /// <summary>Throws for an MPI error code, with MPI's own words for it.</summary>
    public void Check(int code, string call)
    {
        if (code != 0)
        {
            throw new BackpropException($"{call} failed: {ErrorString(code)} (another process of the run may have stopped).");
        }
    }

    private string ErrorString(int code)
    {
        var text = stackalloc byte[1024];
        int length = 0;
        return errorString(code, text, &length) == 0 && length is > 0 and <= 1024
            ? System.Text.Encoding.UTF8.GetString(text, length)
            : $"MPI error {code}";
    }
}
