using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Kernels;

/// <summary>
/// The cache-blocked GEMM for one micro-kernel: packs op(A) and op(B) into panels, then sweeps
/// blocks of C with the micro-kernel, on the calling thread or on the worker pool.
/// </summary>
/// <remarks>
/// <para>
/// Blocking (after BLIS). The k dimension is cut into blocks of <see cref="Gemm.KC"/> steps. For each
/// k-block, a block of C of at most MC rows × NC columns is produced by the loops
/// <code>
///   for each NR-wide panel of op(B) in the block     (kc×NR numbers: stays in L1)
///     for each MR-high panel of op(A) in the block   (the MC×kc block of A stays in L2)
///       micro-kernel: C tile (MR×NR) (+)= A panel · B panel
/// </code>
/// The first k-block stores its partial sums (or adds them to C when accumulating), later k-blocks add
/// theirs. So every element of C is the same sequence whatever the blocking of m and n.
/// </para>
/// <para>
/// Two phases. First op(A) and op(B) are packed whole (in parallel, by panels), then the blocks of C
/// are computed (in parallel, by blocks). Blocks of C never share an output element and the k loop is
/// never split, so the thread count changes who computes an element, never how: the same bits at
/// any degree of parallelism. Panels are packed only where it pays: op(A) when more than two column
/// panels reuse it, op(B) when it is transposed or more than two row panels reuse it; otherwise the
/// kernel reads the matrix in place (only a ragged last panel is packed, zero-padded).
/// </para>
/// <para>
/// Memory. The packed copies live in per-thread, pinned, grow-only buffers owned by the calling
/// thread (the workers read them), so a call allocates nothing once the buffers have grown; the job
/// object itself is cached per thread. Problems whose packed copies would exceed
/// <see cref="DefaultMaxPackedElements"/> are cut into super-blocks of rows and columns first.
/// </para>
/// </remarks>
internal sealed unsafe class GemmJob<T, TK> : IParallelJob
    where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    where TK : struct, IMicroKernel<T>
{
    /// <summary>Largest packed copy of either operand, in elements (16 MB of float); larger problems are split.</summary>
    public const long DefaultMaxPackedElements = 1L << 22;

    [ThreadStatic]
    private static GemmJob<T, TK>? cached;

    private T[]? bufferA;
    private T[]? bufferB;

    // The (sub)problem: C[m×n] (+)= op(A)[m×k] · op(B)[k×n], with row strides lda, ldb, ldc.
    private T* a;
    private T* b;
    private T* c;
    private nint lda;
    private nint ldb;
    private nint ldc;
    private bool transposeA;
    private bool transposeB;
    private bool accumulate;
    private int m;
    private int n;
    private int k;

    // The plan.
    private int mPanels;
    private int nPanels;
    private int mPad;
    private int nPad;
    private bool packA;
    private bool packB;
    private T* packedA;
    private T* packedB;
    private bool packing;
    private int aPanelFirst;
    private int aPanelCount;
    private int bPanelFirst;
    private int bPanelCount;
    private int aPackTasks;
    private int bPackTasks;
    private int rowBlocks;
    private int colBlocks;

    private static int MR => TK.MR;

    private static int NR => TK.NR;

    /// <summary>Rows of C per block: the MC×KC block of packed A fills about 150 KB (a share of L2).</summary>
    private static int MC => typeof(T) == typeof(float) ? 144 : 72;

    /// <summary>Columns of C per block (before splitting for threads).</summary>
    private static int NC => typeof(T) == typeof(float) ? 1024 : 512;

    /// <summary>The calling thread's job object (and packing buffers).</summary>
    public static GemmJob<T, TK> ForThisThread => cached ??= new GemmJob<T, TK>();

    /// <summary>Runs the whole product; the caller has validated sizes and handled k = 0.</summary>
    public void Multiply(bool transposeA, bool transposeB, int m, int n, int k, T* a, T* b, T* c, bool accumulate, int threads,
        long maxPackedElements = DefaultMaxPackedElements)
    {
        nint lda = transposeA ? m : k, ldb = transposeB ? k : n, ldc = n;
        // Super-blocks keep each packed copy under maxPackedElements (one block for all usual sizes):
        // whole multiples of the row and column blocks, at least one block.
        var rowsPerBlock = RoundDown(maxPackedElements / k, MC);
        var colsPerBlock = RoundDown(maxPackedElements / k, NC);
        for (var i0 = 0; i0 < m; i0 += rowsPerBlock)
        {
            var mb = Math.Min(rowsPerBlock, m - i0);
            for (var j0 = 0; j0 < n; j0 += colsPerBlock)
            {
                var nb = Math.Min(colsPerBlock, n - j0);
                Run(transposeA, transposeB, mb, nb, k,
                    transposeA ? a + i0 : a + (i0 * lda), lda,
                    transposeB ? b + (j0 * ldb) : b + j0, ldb,
                    c + (i0 * ldc) + j0, ldc, accumulate, threads);
            }
        }

        static int RoundDown(long value, int unit) => (int)Math.Min(int.MaxValue / 2, Math.Max(unit, value / unit * unit));
    }

    private void Run(bool transposeA, bool transposeB, int m, int n, int k, T* a, nint lda, T* b, nint ldb, T* c, nint ldc, bool accumulate, int threads)
    {
        this.a = a;
        this.b = b;
        this.c = c;
        this.lda = lda;
        this.ldb = ldb;
        this.ldc = ldc;
        this.transposeA = transposeA;
        this.transposeB = transposeB;
        this.accumulate = accumulate;
        this.m = m;
        this.n = n;
        this.k = k;
        Plan(threads);

        var pinnedA = Buffer(ref bufferA, aPanelCount == 0 ? 0 : (long)(packA ? mPad : MR) * k);
        var pinnedB = Buffer(ref bufferB, bPanelCount == 0 ? 0 : (long)(packB ? nPad : NR) * k);
        packedA = pinnedA;
        packedB = pinnedB;
        try
        {
            packing = true;
            Execute(aPackTasks + bPackTasks, threads);
            packing = false;
            Execute(rowBlocks * colBlocks, threads);
        }
        finally
        {
            this.a = this.b = this.c = packedA = packedB = null;
        }
    }

    private void Execute(int tasks, int threads)
    {
        if (threads <= 1 || tasks <= 1)
        {
            for (var t = 0; t < tasks; t++)
            {
                Execute(t);
            }
        }
        else
        {
            WorkerPool.Shared.Run(this, tasks, threads);
        }
    }

    /// <summary>Decides what to pack and how to cut C into blocks; nothing here changes the results.</summary>
    private void Plan(int threads)
    {
        mPanels = (m + MR - 1) / MR;
        nPanels = (n + NR - 1) / NR;
        mPad = mPanels * MR;
        nPad = nPanels * NR;
        packA = nPanels > 2;
        packB = transposeB || mPanels > 2;
        // Unpacked operands still need their ragged last panel packed (the kernel reads whole panels).
        (aPanelFirst, aPanelCount) = packA ? (0, mPanels) : m % MR != 0 ? (mPanels - 1, 1) : (0, 0);
        (bPanelFirst, bPanelCount) = packB ? (0, nPanels) : n % NR != 0 ? (nPanels - 1, 1) : (0, 0);

        rowBlocks = (mPanels + (MC / MR) - 1) / (MC / MR);
        colBlocks = (nPanels + (NC / NR) - 1) / (NC / NR);
        if (threads > 1)
        {
            // Enough blocks for every thread to take a few (the pool hands them out as threads free up).
            var target = 3 * threads;
            while (rowBlocks * colBlocks < target)
            {
                var canSplitColumns = nPanels >= 2 * (colBlocks + 1);
                var canSplitRows = mPanels >= 2 * (rowBlocks + 1);
                if (canSplitColumns && (!canSplitRows || (long)nPanels * NR * rowBlocks >= (long)mPanels * MR * colBlocks))
                {
                    colBlocks++;
                }
                else if (canSplitRows)
                {
                    rowBlocks++;
                }
                else
                {
                    break;
                }
            }
            aPackTasks = Math.Min(aPanelCount, 2 * threads);
            bPackTasks = Math.Min(bPanelCount, 2 * threads);
        }
        else
        {
            aPackTasks = Math.Min(aPanelCount, 1);
            bPackTasks = Math.Min(bPanelCount, 1);
        }
    }

    /// <inheritdoc/>
    public void Execute(int task)
    {
        if (packing)
        {
            if (task < aPackTasks)
            {
                var first = aPanelFirst + (int)((long)aPanelCount * task / aPackTasks);
                var last = aPanelFirst + (int)((long)aPanelCount * (task + 1) / aPackTasks);
                PackAPanels(first, last);
            }
            else
            {
                task -= aPackTasks;
                var first = bPanelFirst + (int)((long)bPanelCount * task / bPackTasks);
                var last = bPanelFirst + (int)((long)bPanelCount * (task + 1) / bPackTasks);
                PackBPanels(first, last);
            }
            return;
        }
        var rb = task / colBlocks;
        var cb = task % colBlocks;
        Compute(
            (int)((long)mPanels * rb / rowBlocks), (int)((long)mPanels * (rb + 1) / rowBlocks),
            (int)((long)nPanels * cb / colBlocks), (int)((long)nPanels * (cb + 1) / colBlocks));
    }

    /// <summary>Packs panels [first, last) of op(A), every k-block; full panels in one sweep, a ragged last one alone.</summary>
    private void PackAPanels(int first, int last)
    {
        var full = Math.Min(last, m / MR);
        for (var p0 = 0; p0 < k; p0 += Gemm.KC)
        {
            var kc = Math.Min(Gemm.KC, k - p0);
            if (first < full)
            {
                GemmPacking.PackAPanels(a, lda, transposeA, first, full, p0, kc, MR, PackedAPanel(first, p0, kc));
            }
            for (var ip = Math.Max(first, full); ip < last; ip++)
            {
                GemmPacking.PackA(a, lda, transposeA, ip * MR, m - (ip * MR), p0, kc, MR, PackedAPanel(ip, p0, kc));
            }
        }
    }

    /// <summary>Packs panels [first, last) of op(B), every k-block.</summary>
    private void PackBPanels(int first, int last)
    {
        var full = Math.Min(last, n / NR);
        for (var p0 = 0; p0 < k; p0 += Gemm.KC)
        {
            var kc = Math.Min(Gemm.KC, k - p0);
            if (first < full)
            {
                GemmPacking.PackBPanels(b, ldb, transposeB, first, full, p0, kc, NR, PackedBPanel(first, p0, kc));
            }
            for (var jp = Math.Max(first, full); jp < last; jp++)
            {
                GemmPacking.PackB(b, ldb, transposeB, jp * NR, n - (jp * NR), p0, kc, NR, PackedBPanel(jp, p0, kc));
            }
        }
    }

    /// <summary>Where panel ip of k-block [p0, p0+kc) of op(A) is packed: block after block, panel after panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private T* PackedAPanel(int ip, int p0, int kc)
        => packA ? packedA + ((nint)p0 * mPad) + ((nint)ip * MR * kc) : packedA + ((nint)p0 * MR);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private T* PackedBPanel(int jp, int p0, int kc)
        => packB ? packedB + ((nint)p0 * nPad) + ((nint)jp * NR * kc) : packedB + ((nint)p0 * NR);

    /// <summary>C blocks of row panels [ip0, ip1) × column panels [jp0, jp1), all k-blocks in order.</summary>
    [SkipLocalsInit]
    private void Compute(int ip0, int ip1, int jp0, int jp1)
    {
        var tile = stackalloc T[MR * NR];
        var raggedA = !packA && m % MR != 0 ? mPanels - 1 : -1;
        var raggedB = !packB && n % NR != 0 ? nPanels - 1 : -1;
        nint rsA = transposeA ? 1 : lda, csA = transposeA ? lda : 1;
        for (var p0 = 0; p0 < k; p0 += Gemm.KC)
        {
            var kc = Math.Min(Gemm.KC, k - p0);
            var add = accumulate || p0 > 0;
            for (var jp = jp0; jp < jp1; jp++)
            {
                var nr = Math.Min(NR, n - (jp * NR));
                T* bp;
                nint ldbp;
                if (packB || jp == raggedB)
                {
                    bp = PackedBPanel(jp, p0, kc);
                    ldbp = NR;
                }
                else
                {
                    bp = b + ((nint)p0 * ldb) + (jp * NR);
                    ldbp = ldb;
                }
                for (var ip = ip0; ip < ip1; ip++)
                {
                    var mr = Math.Min(MR, m - (ip * MR));
                    T* ap;
                    nint rs, cs;
                    if (packA || ip == raggedA)
                    {
                        ap = PackedAPanel(ip, p0, kc);
                        rs = 1;
                        cs = MR;
                    }
                    else
                    {
                        ap = a + ((nint)ip * MR * rsA) + (p0 * csA);
                        rs = rsA;
                        cs = csA;
                    }
                    var ct = c + ((nint)ip * MR * ldc) + (jp * NR);
                    if (mr == MR && nr == NR)
                    {
                        TK.Run(kc, ap, rs, cs, bp, ldbp, ct, ldc, add);
                    }
                    else
                    {
                        // Edge tile: the kernel writes a whole scratch tile; keep its valid part with
                        // the same final operation the kernel would have done (acc, or acc + C).
                        TK.Run(kc, ap, rs, cs, bp, ldbp, tile, NR, false);
                        for (var r = 0; r < mr; r++)
                        {
                            var crow = ct + (r * ldc);
                            var trow = tile + (r * NR);
                            for (var j = 0; j < nr; j++)
                            {
                                crow[j] = add ? trow[j] + crow[j] : trow[j];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>A pinned buffer of at least <paramref name="length"/> elements, 64-byte aligned.</summary>
    private static T* Buffer(ref T[]? array, long length)
    {
        if (length == 0)
        {
            return null;
        }
        var slack = 64 / sizeof(T);
        if (array is null || array.Length < length + slack)
        {
            array = null;
            array = GC.AllocateUninitializedArray<T>(checked((int)(length + slack)), pinned: true);
        }
        var start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (T*)((start + 63) & ~(nint)63);
    }
}
