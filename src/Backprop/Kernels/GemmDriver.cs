using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Kernels;

/// <summary>
/// The cache-blocked GEMM for one micro-kernel: packs op(B) into panels, then sweeps blocks of C —
/// each block packing its own slice of op(A) — on the calling thread or on the worker pool.
/// </summary>
/// <remarks>
/// <para>
/// Blocking (after BLIS). The k dimension is cut into blocks of <see cref="Gemm.KC"/> steps. A block
/// of C of at most MC rows × NC columns is produced, k-block after k-block, by
/// <code>
///   pack the block's MC×kc slice of op(A) into MR-row panels    (into L2, about 150 KB)
///   for each NR-wide panel of op(B) in the block                 (kc×NR numbers: stays in L1)
///     for each MR-high panel of op(A)
///       micro-kernel: C tile (MR×NR) (+)= A panel · B panel
/// </code>
/// The first k-block stores its partial sums (or adds them to C when accumulating), later k-blocks
/// add theirs; so every element of C is the same sequence of operations however m and n are cut.
/// </para>
/// <para>
/// Threads. op(B) is packed once, in parallel by panels (phase one); then the blocks of C are shared
/// out (phase two). When each B panel has a single user — one row of blocks (a batch of at most MC
/// rows), or one thread running the blocks in order — there is no phase one: the (first row of)
/// blocks pack B themselves, eight panels ahead of use, while the panels are still in L1/L2.
/// Blocks never share an output element and the k loop is never split, so the
/// thread count changes who computes an element, never how: the same bits at any degree of
/// parallelism. Each block packs its own slice of A (a block row shared by several column blocks is
/// packed once per block, a small cost next to the block's multiply-adds), so phase two needs no
/// barrier. Operands are read in place where packing would not pay: op(A) when there are at most
/// two column panels, op(B) when it is not transposed and there are at most two row panels (then
/// only a ragged last panel, which the kernel cannot read whole, is packed).
/// </para>
/// <para>
/// Memory. Packed B lives in a pinned, grow-only buffer of the calling thread (the workers read it);
/// each thread's A slices go to its own pinned buffer; the job object is cached per thread. So a
/// call allocates nothing once the buffers have grown. Problems whose packed B would exceed the
/// packing cap are cut into super-blocks of columns first.
/// </para>
/// </remarks>
internal sealed unsafe class GemmJob<T, TK> : IParallelJob
    where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    where TK : struct, IMicroKernel<T>
{
    /// <summary>Largest packed copy of op(B), in elements (16 MB of float); larger problems are split.</summary>
    public const long DefaultMaxPackedElements = 1L << 22;

    [ThreadStatic]
    private static GemmJob<T, TK>? cached;

    /// <summary>This thread's buffer for slices of packed A (any job of this element type and kernel).</summary>
    [ThreadStatic]
    private static T[]? sliceBuffer;

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
    private int nPad;
    private bool packA;
    private bool packB;
    private bool packBInBlocks;
    private int raggedA;
    private int raggedB;
    private T* packedB;
    private bool packing;
    private int bPanelFirst;
    private int bPanelCount;
    private int bPackTasks;
    private int rowBlocks;
    private int colBlocks;

    private static int MR => TK.MR;

    private static int NR => TK.NR;

    /// <summary>Rows of C per block: an MC×KC slice of packed A fills about 150 KB (a share of L2).</summary>
    private static int MC => typeof(T) == typeof(float) ? 144 : 72;

    /// <summary>Columns of C per block (before splitting for threads).</summary>
    private static int NC => typeof(T) == typeof(float) ? 1024 : 512;

    /// <summary>The calling thread's job object (and packing buffer).</summary>
    public static GemmJob<T, TK> ForThisThread => cached ??= new GemmJob<T, TK>();

    /// <summary>Runs the whole product; the caller has validated sizes and handled k = 0.</summary>
    public void Multiply(bool transposeA, bool transposeB, int m, int n, int k, T* a, T* b, T* c, bool accumulate, int threads,
        long maxPackedElements = DefaultMaxPackedElements)
    {
        nint lda = transposeA ? m : k, ldb = transposeB ? k : n, ldc = n;
        // Super-blocks of columns keep packed B under maxPackedElements (one block for all usual
        // sizes): whole multiples of the column block, at least one.
        var colsPerBlock = (int)Math.Min(int.MaxValue / 2, Math.Max(NC, maxPackedElements / k / NC * NC));
        for (var j0 = 0; j0 < n; j0 += colsPerBlock)
        {
            Run(transposeA, transposeB, m, Math.Min(colsPerBlock, n - j0), k,
                a, lda, transposeB ? b + (j0 * ldb) : b + j0, ldb, c + j0, ldc, accumulate, threads);
        }
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
        packedB = Buffer(ref bufferB, bPanelCount == 0 ? 0 : (long)(packB ? nPad : NR) * k);
        try
        {
            packing = true;
            Execute(bPackTasks, threads);
            packing = false;
            Execute(rowBlocks * colBlocks, threads);
        }
        finally
        {
            this.a = this.b = this.c = packedB = null;
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
        nPad = nPanels * NR;
        packA = nPanels > 2;
        packB = transposeB || mPanels > 2;
        // Unpacked operands still need their ragged last panel packed (the kernel reads whole panels).
        raggedA = !packA && m % MR != 0 ? mPanels - 1 : -1;
        raggedB = !packB && n % NR != 0 ? nPanels - 1 : -1;
        (bPanelFirst, bPanelCount) = packB ? (0, nPanels) : raggedB >= 0 ? (raggedB, 1) : (0, 0);

        rowBlocks = (mPanels + (MC / MR) - 1) / (MC / MR);
        colBlocks = (nPanels + (NC / NR) - 1) / (NC / NR);
        if (threads > 1)
        {
            // Enough blocks for every thread to take a few (the pool hands them out as threads free
            // up); split whichever side of the blocks is longer, keeping at least two panels a side.
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
        }
        // When each B panel has one user — a single row of blocks, or one thread running the blocks in
        // order — the blocks pack B themselves, a few panels ahead of use, so the panels are still in
        // L1/L2 when the kernel reads them; otherwise a first phase packs all of B for everyone.
        packBInBlocks = packB && (rowBlocks == 1 || threads <= 1);
        bPackTasks = packBInBlocks ? 0 : Math.Min(bPanelCount, threads > 1 ? 2 * threads : 1);
    }

    /// <inheritdoc/>
    public void Execute(int task)
    {
        if (packing)
        {
            PackBPanels(
                bPanelFirst + (int)((long)bPanelCount * task / bPackTasks),
                bPanelFirst + (int)((long)bPanelCount * (task + 1) / bPackTasks));
            return;
        }
        var rb = task / colBlocks;
        var cb = task % colBlocks;
        Compute(
            (int)((long)mPanels * rb / rowBlocks), (int)((long)mPanels * (rb + 1) / rowBlocks),
            (int)((long)nPanels * cb / colBlocks), (int)((long)nPanels * (cb + 1) / colBlocks));
    }

    /// <summary>Packs panels [first, last) of op(B), every k-block.</summary>
    private void PackBPanels(int first, int last)
    {
        for (var p0 = 0; p0 < k; p0 += Gemm.KC)
        {
            PackBPanels(first, last, p0, Math.Min(Gemm.KC, k - p0));
        }
    }

    /// <summary>Packs panels [first, last) of k-block [p0, p0+kc) of op(B): full panels in one sweep, a ragged last one alone.</summary>
    private void PackBPanels(int first, int last, int p0, int kc)
    {
        var full = Math.Min(last, n / NR);
        if (first < full)
        {
            GemmPacking.PackBPanels(b, ldb, transposeB, first, full, p0, kc, NR, PackedBPanel(first, p0, kc));
        }
        for (var jp = Math.Max(first, full); jp < last; jp++)
        {
            GemmPacking.PackB(b, ldb, transposeB, jp * NR, n - (jp * NR), p0, kc, NR, PackedBPanel(jp, p0, kc));
        }
    }

    /// <summary>B panels a block packs at a time when it packs its own (8 × 16 KB: a share of L2).</summary>
    private const int BPanelsAhead = 8;

    /// <summary>Where panel jp of k-block [p0, p0+kc) of op(B) is packed: block after block, panel after panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private T* PackedBPanel(int jp, int p0, int kc)
        => packB ? packedB + ((nint)p0 * nPad) + ((nint)jp * NR * kc) : packedB + ((nint)p0 * NR);

    /// <summary>C blocks of row panels [ip0, ip1) × column panels [jp0, jp1), all k-blocks in order.</summary>
    [SkipLocalsInit]
    private void Compute(int ip0, int ip1, int jp0, int jp1)
    {
        var tile = stackalloc T[MR * NR];
        var slice = Buffer(ref sliceBuffer, (long)MC * Gemm.KC); // a block has at most MC rows
        nint rsA = transposeA ? 1 : lda, csA = transposeA ? lda : 1;
        var fullA = Math.Min(ip1, m / MR);
        // The first row of blocks packs B (with one thread, the blocks run in task order, row of blocks by row).
        var packBHere = packBInBlocks && ip0 == 0;
        for (var p0 = 0; p0 < k; p0 += Gemm.KC)
        {
            var kc = Math.Min(Gemm.KC, k - p0);
            var add = accumulate || p0 > 0;
            var panelSize = (nint)MR * kc;
            // This block's slice of op(A) for this k-block, packed just before use so it is in L2.
            if (packA)
            {
                if (ip0 < fullA)
                {
                    GemmPacking.PackAPanels(a, lda, transposeA, ip0, fullA, p0, kc, MR, slice);
                }
                if (fullA < ip1)
                {
                    GemmPacking.PackA(a, lda, transposeA, fullA * MR, m - (fullA * MR), p0, kc, MR, slice + ((fullA - ip0) * panelSize));
                }
            }
            else if (raggedA >= ip0 && raggedA < ip1)
            {
                GemmPacking.PackA(a, lda, transposeA, raggedA * MR, m - (raggedA * MR), p0, kc, MR, slice);
            }
            for (var jp = jp0; jp < jp1; jp++)
            {
                if (packBHere && (jp - jp0) % BPanelsAhead == 0)
                {
                    PackBPanels(jp, Math.Min(jp1, jp + BPanelsAhead), p0, kc);
                }
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
                // While this B panel is swept by every A panel of the block, bring the next B panel
                // from L3 into L2, a share per kernel call, so its first sweep does not wait on L3.
                byte* nextB = null;
                nint nextBytes = 0, share = 0;
                if (jp + 1 < jp1 && (packB || jp + 1 == raggedB))
                {
                    nextB = (byte*)PackedBPanel(jp + 1, p0, kc);
                    nextBytes = panelSize / MR * NR * sizeof(T);
                    share = ((nextBytes / 64) + (ip1 - ip0) - 1) / (ip1 - ip0) * 64;
                }
                for (var ip = ip0; ip < ip1; ip++)
                {
                    if (nextB != null)
                    {
                        var from = (ip - ip0) * share;
                        Simd.PrefetchToL2(nextB + from, Math.Min(share, nextBytes - from));
                    }
                    var mr = Math.Min(MR, m - (ip * MR));
                    T* ap;
                    nint rs, cs;
                    if (packA)
                    {
                        ap = slice + ((ip - ip0) * panelSize);
                        rs = 1;
                        cs = MR;
                    }
                    else if (ip == raggedA)
                    {
                        ap = slice;
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
                        // the same final operation the kernel would have done (acc, or acc + C). A
                        // tile at most half as wide as the 512-bit kernel's goes through the 256-bit
                        // kernel on the same packed panel (its first half): the same chains lane for
                        // lane, at half the cost where 512-bit FMAs issue as two 256-bit halves.
                        if (typeof(TK) == typeof(Kernel512<T>) && nr <= Kernel256<T>.NR)
                        {
                            Kernel256<T>.Run(kc, ap, rs, cs, bp, ldbp, tile, NR, false);
                        }
                        else
                        {
                            TK.Run(kc, ap, rs, cs, bp, ldbp, tile, NR, false);
                        }
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
