using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels;

/// <summary>
/// General matrix multiply on row-major spans: C = op(A)·op(B) (+ C), where op(X) is X or Xᵀ.
/// </summary>
/// <remarks>
/// <para>
/// The transposed forms are what back-propagation through a matrix product needs
/// (dA = dC·Bᵀ, dB = Aᵀ·dC); they are computed without materialising a transpose — the packing
/// routines read the operands in whichever order they are stored.
/// </para>
/// <para>
/// Arithmetic. Every element is computed the same way on every path, every kernel and at every
/// thread count: the k steps are cut into blocks of <see cref="KC"/>; within a block the products are
/// added one after another to a partial sum that starts at zero, with a fused multiply-add per step
/// (separate multiply and add where the hardware has no FMA); then the partial sum is stored (first
/// block, not accumulating) or added to C. So the result depends on neither the thread count, nor the
/// SIMD width, nor the size of the other dimensions (a row of C gets the same bits in a batch of 1 or
/// of 1000), and its error is bounded like any recursive sum: each product passes through at most
/// k + 2 roundings, so |Ĉ − C| ≤ γ_(k+2)·(Σₚ|aᵢₚ·bₚⱼ| + |C₀|), γ_n = n·u/(1 − n·u), u the unit roundoff.
/// </para>
/// <para>
/// Paths, by size (m·n·k multiply-adds): up to 64, a plain triple loop (the lesson's 3×1·1×2 costs
/// about 20 ns); up to 12288, loops that keep 4–8 multiply-add chains in flight with no packing or
/// buffers; beyond that the cache-blocked driver (<see cref="GemmJob{T, TK}"/>) with a register-tiled
/// micro-kernel (<see cref="Kernel256{T}"/> and relatives), on up to
/// <see cref="Parallelism.MaxDegreeOfParallelism"/> threads from 2²⁰ multiply-adds on. float and
/// double use the SIMD kernels; any other number type takes the loops.
/// </para>
/// </remarks>
public static class Gemm
{
    /// <summary>Steps of k per block: the unit in which partial sums are formed and added to C.</summary>
    internal const int KC = 256;

    /// <summary>
    /// Products of at most this many multiply-adds (m·n·k) take the loop path (half as many when B is
    /// transposed, which the loop path first copies, unless B is narrow and small: see
    /// <see cref="SmallTransposeColumns"/>); measured crossover with the blocked path.
    /// </summary>
    internal const long SmallProduct = 12288;

    /// <summary>Products of at least this many multiply-adds may be spread over threads.</summary>
    internal const long ParallelProduct = 1L << 20;

    /// <summary>
    /// C[m×n] = op(A)[m×k] · op(B)[k×n], added to C when <paramref name="accumulate"/> is true.
    /// A is stored m×k (k×m when <paramref name="transposeA"/>), B is stored k×n (n×k when
    /// <paramref name="transposeB"/>). Uses up to <see cref="Parallelism.MaxDegreeOfParallelism"/> threads.
    /// </summary>
    public static void Multiply<T>(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Multiply(transposeA, transposeB, m, n, k, a, b, c, accumulate, new GemmOptions(Parallelism.MaxDegreeOfParallelism));

    /// <summary>The same product with the path, kernel and thread count chosen (for tests and benchmarks).</summary>
    internal static unsafe void Multiply<T>(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate, GemmOptions options)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
        {
            throw new ArgumentException($"Spans too short for a {m}×{k} by {k}×{n} product.");
        }
        if (m == 0 || n == 0)
        {
            return;
        }
        if (k == 0)
        {
            if (!accumulate)
            {
                c[..(m * n)].Clear();
            }
            return;
        }
        var product = (long)m * n * k;
        if (product <= TinyProduct && options.Path == GemmPath.Auto)
        {
            Tiny(transposeA, transposeB, m, n, k, a, b, c, accumulate);
            return;
        }
        var blocked = (typeof(T) == typeof(float) || typeof(T) == typeof(double))
            && options.Path switch
            {
                GemmPath.Small => false,
                GemmPath.Blocked => true,
                _ => product > (transposeB && !(n < SmallTransposeColumns && (long)k * n <= SmallTransposeLimit) ? SmallProduct / 2 : SmallProduct),
            };
        fixed (T* pa = a, pb = b, pc = c)
        {
            if (!blocked)
            {
                Small(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate);
                return;
            }
            var threads = options.ForceParallel || product >= ParallelProduct ? Math.Max(1, options.Threads) : 1;
            var maxPacked = options.MaxPackedElements > 0 ? options.MaxPackedElements : GemmJob<float, Kernel256<float>>.DefaultMaxPackedElements;
            switch (options.Kernel == GemmKernel.Auto ? Simd.Best : options.Kernel)
            {
                case GemmKernel.Vector512:
                    GemmJob<T, Kernel512<T>>.ForThisThread.Multiply(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate, threads, maxPacked);
                    break;
                case GemmKernel.Vector256:
                    GemmJob<T, Kernel256<T>>.ForThisThread.Multiply(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate, threads, maxPacked);
                    break;
                case GemmKernel.Vector128:
                    GemmJob<T, Kernel128<T>>.ForThisThread.Multiply(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate, threads, maxPacked);
                    break;
                default:
                    GemmJob<T, KernelScalar<T>>.ForThisThread.Multiply(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate, threads, maxPacked);
                    break;
            }
        }
    }

    /// <summary>Products of at most this many multiply-adds take the plain triple loop (the lesson's 3×1·1×2).</summary>
    internal const long TinyProduct = 64;

    /// <summary>
    /// The plainest loop, for a few dozen multiply-adds, where any setup costs more than the arithmetic:
    /// for each C[i,j], one multiply-add chain over p from zero (k ≤ 64 &lt; KC: a single k-block),
    /// then stored or added — the same operations as every other path.
    /// </summary>
    private static void Tiny<T>(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rsA = transposeA ? 1 : k, csA = transposeA ? m : 1;
        int rsB = transposeB ? 1 : n, csB = transposeB ? k : 1;
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var s = T.Zero;
                for (var p = 0; p < k; p++)
                {
                    s = Simd.MulAdd(a[(i * rsA) + (p * csA)], b[(p * rsB) + (j * csB)], s);
                }
                ref var cij = ref c[(i * n) + j];
                cij = accumulate ? s + cij : s;
            }
        }
    }

    /// <summary>
    /// A transposed B with fewer columns than this (narrower than the AVX-512 kernel's 32-wide panel, which
    /// the blocked path would pad) that the loop path copies to the stack takes the loops up to
    /// <see cref="SmallProduct"/> multiply-adds: a dense layer's dX = dZ·Wᵀ for 32×16×16 costs 0.4 µs
    /// there against 1.0 µs blocked (and 64×8×16 0.6 against 1.25); 32 columns and more keep the blocked path.
    /// </summary>
    internal const int SmallTransposeColumns = 32;

    /// <summary>Largest op(B) (k·n elements) the loop path copies to the stack to untranspose.</summary>
    private const int SmallTransposeLimit = 2048;

    /// <summary>
    /// The loop path for small products: no packing, no threads, no heap buffers — the same arithmetic
    /// as the micro-kernels (a multiply-add chain from zero per k-block, then stored or added to C).
    /// </summary>
    /// <remarks>
    /// Rows of C are done four at a time and columns a vector (or two) at a time, so 4 to 8 independent
    /// chains are in flight and the FMA latency is hidden; lane j of a chain is exactly the scalar
    /// chain of C[i, j0+j]. Columns left over use scalar chains, still four rows at a time. A transposed
    /// B is first copied, untransposed, to the stack (a few KB at most) so its rows are contiguous.
    /// </remarks>
    [SkipLocalsInit]
    private static unsafe void Small<T>(bool transposeA, bool transposeB, int m, int n, int k, T* a, T* b, T* c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // op(A)[i, p] = a[i·rsA + p·csA];  op(B)[p, j] = b[p·ldb + j] once untransposed.
        nint rsA = transposeA ? 1 : k, csA = transposeA ? m : 1;
        if (transposeB)
        {
            if ((long)k * n <= SmallTransposeLimit)
            {
                var bt = stackalloc T[k * n];
                for (var j = 0; j < n; j++)
                {
                    for (var p = 0; p < k; p++)
                    {
                        bt[(p * n) + j] = b[((nint)j * k) + p];
                    }
                }
                SmallRows(m, n, k, a, rsA, csA, bt, n, 1, c, accumulate);
            }
            else
            {
                // A few long rows of B (m small): read B in place, step 1 along p, k between columns.
                SmallRows(m, n, k, a, rsA, csA, b, 1, k, c, accumulate);
            }
            return;
        }
        SmallRows(m, n, k, a, rsA, csA, b, n, 1, c, accumulate);
    }

    /// <summary>
    /// C (+)= op(A)·op(B) with op(B)[p, j] = b[p·ldb + j·csB]: vector columns four rows at a time, then
    /// the leftover columns with scalar chains eight rows at a time.
    /// </summary>
    private static unsafe void SmallRows<T>(int m, int n, int k, T* a, nint rsA, nint csA, T* b, nint ldb, nint csB, T* c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var vectorColumns = 0;
        if (csB == 1 && Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            vectorColumns = n - (n % Vector256<T>.Count);
            for (var i0 = 0; vectorColumns > 0 && i0 < m; i0 += 4)
            {
                // Rows past the end repeat the last row (computed, never stored), so every group is 4 high.
                SmallVector256(Math.Min(4, m - i0), vectorColumns, n, k,
                    a + (i0 * rsA), a + (Math.Min(i0 + 1, m - 1) * rsA), a + (Math.Min(i0 + 2, m - 1) * rsA), a + (Math.Min(i0 + 3, m - 1) * rsA),
                    csA, b, ldb, c + ((nint)i0 * n), accumulate);
            }
        }
        if (vectorColumns == n)
        {
            return;
        }
        for (var i0 = 0; i0 < m; i0 += 4)
        {
            var rows = Math.Min(4, m - i0);
            // Rows past the end repeat the last row (computed, never stored).
            var a0 = a + (i0 * rsA);
            var a1 = a + (Math.Min(i0 + 1, m - 1) * rsA);
            var a2 = a + (Math.Min(i0 + 2, m - 1) * rsA);
            var a3 = a + (Math.Min(i0 + 3, m - 1) * rsA);
            var ci = c + ((nint)i0 * n);
            var j = vectorColumns;
            for (; j + 2 <= n; j += 2)
            {
                SmallScalar2(rows, n, k, a0, a1, a2, a3, csA, b + (j * csB), csB, ldb, ci + j, accumulate);
            }
            if (j < n)
            {
                SmallScalar1(rows, n, k, a0, a1, a2, a3, csA, b + (j * csB), ldb, ci + j, accumulate);
            }
        }
    }

    /// <summary>Two columns of a 4-row group with scalar chains (8 in flight).</summary>
    private static unsafe void SmallScalar2<T>(int rows, int n, int k, T* a0, T* a1, T* a2, T* a3, nint csA, T* b, nint csB, nint ldb, T* c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var p0 = 0; p0 < k; p0 += KC)
        {
            var kc = Math.Min(KC, k - p0);
            T s00 = T.Zero, s01 = T.Zero, s10 = T.Zero, s11 = T.Zero, s20 = T.Zero, s21 = T.Zero, s30 = T.Zero, s31 = T.Zero;
            var q = p0 * csA;
            var bp = b + (p0 * ldb);
            for (var p = 0; p < kc; p++, q += csA, bp += ldb)
            {
                T b0 = bp[0], b1 = bp[csB];
                T x = a0[q];
                s00 = Simd.MulAdd(x, b0, s00);
                s01 = Simd.MulAdd(x, b1, s01);
                x = a1[q];
                s10 = Simd.MulAdd(x, b0, s10);
                s11 = Simd.MulAdd(x, b1, s11);
                x = a2[q];
                s20 = Simd.MulAdd(x, b0, s20);
                s21 = Simd.MulAdd(x, b1, s21);
                x = a3[q];
                s30 = Simd.MulAdd(x, b0, s30);
                s31 = Simd.MulAdd(x, b1, s31);
            }
            var first = p0 == 0 && !accumulate;
            Merge(c, s00, first);
            Merge(c + 1, s01, first);
            if (rows > 1)
            {
                Merge(c + n, s10, first);
                Merge(c + n + 1, s11, first);
            }
            if (rows > 2)
            {
                Merge(c + (2 * n), s20, first);
                Merge(c + (2 * n) + 1, s21, first);
            }
            if (rows > 3)
            {
                Merge(c + (3 * n), s30, first);
                Merge(c + (3 * n) + 1, s31, first);
            }
        }
    }

    /// <summary>One column of a 4-row group with scalar chains.</summary>
    private static unsafe void SmallScalar1<T>(int rows, int n, int k, T* a0, T* a1, T* a2, T* a3, nint csA, T* b, nint ldb, T* c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var p0 = 0; p0 < k; p0 += KC)
        {
            var kc = Math.Min(KC, k - p0);
            T s0 = T.Zero, s1 = T.Zero, s2 = T.Zero, s3 = T.Zero;
            var q = p0 * csA;
            var bp = b + (p0 * ldb);
            for (var p = 0; p < kc; p++, q += csA, bp += ldb)
            {
                var bpj = *bp;
                s0 = Simd.MulAdd(a0[q], bpj, s0);
                s1 = Simd.MulAdd(a1[q], bpj, s1);
                s2 = Simd.MulAdd(a2[q], bpj, s2);
                s3 = Simd.MulAdd(a3[q], bpj, s3);
            }
            var first = p0 == 0 && !accumulate;
            Merge(c, s0, first);
            if (rows > 1)
            {
                Merge(c + n, s1, first);
            }
            if (rows > 2)
            {
                Merge(c + (2 * n), s2, first);
            }
            if (rows > 3)
            {
                Merge(c + (3 * n), s3, first);
            }
        }
    }

    /// <summary>C = s (first k-block, not accumulating) or C = s + C: the kernels' final operation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Merge<T>(T* cij, T s, bool first) where T : unmanaged, IFloatingPointIeee754<T>
        => *cij = first ? s : s + *cij;

    /// <inheritdoc cref="Merge{T}(T*, T, bool)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Merge<T>(T* cij, Vector256<T> s, bool first) where T : unmanaged, IFloatingPointIeee754<T>
        => (first ? s : s + Vector256.Load(cij)).Store(cij);

    /// <summary>
    /// Columns 0 … <paramref name="columns"/> − 1 (a multiple of the vector width) of a 4-row group in
    /// Vector256 chunks: 2 vectors (8 chains) while they fit, then 1 (4 chains).
    /// </summary>
    private static unsafe void SmallVector256<T>(int rows, int columns, int n, int k, T* a0, T* a1, T* a2, T* a3, nint csA, T* b, nint ldb, T* c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = Vector256<T>.Count;
        var j = 0;
        for (; j + (2 * w) <= columns; j += 2 * w)
        {
            for (var p0 = 0; p0 < k; p0 += KC)
            {
                var p1 = Math.Min(k, p0 + KC);
                Vector256<T> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
                for (var p = p0; p < p1; p++)
                {
                    var bp = b + (p * ldb) + j;
                    var b0 = Vector256.Load(bp);
                    var b1 = Vector256.Load(bp + w);
                    var x = Vector256.Create(a0[p * csA]);
                    s00 = Simd.MulAdd(b0, x, s00);
                    s01 = Simd.MulAdd(b1, x, s01);
                    x = Vector256.Create(a1[p * csA]);
                    s10 = Simd.MulAdd(b0, x, s10);
                    s11 = Simd.MulAdd(b1, x, s11);
                    x = Vector256.Create(a2[p * csA]);
                    s20 = Simd.MulAdd(b0, x, s20);
                    s21 = Simd.MulAdd(b1, x, s21);
                    x = Vector256.Create(a3[p * csA]);
                    s30 = Simd.MulAdd(b0, x, s30);
                    s31 = Simd.MulAdd(b1, x, s31);
                }
                var first = p0 == 0 && !accumulate;
                Merge(c + j, s00, first);
                Merge(c + j + w, s01, first);
                if (rows > 1)
                {
                    Merge(c + n + j, s10, first);
                    Merge(c + n + j + w, s11, first);
                }
                if (rows > 2)
                {
                    Merge(c + (2 * n) + j, s20, first);
                    Merge(c + (2 * n) + j + w, s21, first);
                }
                if (rows > 3)
                {
                    Merge(c + (3 * n) + j, s30, first);
                    Merge(c + (3 * n) + j + w, s31, first);
                }
            }
        }
        for (; j < columns; j += w)
        {
            for (var p0 = 0; p0 < k; p0 += KC)
            {
                var p1 = Math.Min(k, p0 + KC);
                Vector256<T> s0 = default, s1 = default, s2 = default, s3 = default;
                for (var p = p0; p < p1; p++)
                {
                    var b0 = Vector256.Load(b + (p * ldb) + j);
                    s0 = Simd.MulAdd(b0, Vector256.Create(a0[p * csA]), s0);
                    s1 = Simd.MulAdd(b0, Vector256.Create(a1[p * csA]), s1);
                    s2 = Simd.MulAdd(b0, Vector256.Create(a2[p * csA]), s2);
                    s3 = Simd.MulAdd(b0, Vector256.Create(a3[p * csA]), s3);
                }
                var first = p0 == 0 && !accumulate;
                Merge(c + j, s0, first);
                if (rows > 1)
                {
                    Merge(c + n + j, s1, first);
                }
                if (rows > 2)
                {
                    Merge(c + (2 * n) + j, s2, first);
                }
                if (rows > 3)
                {
                    Merge(c + (3 * n) + j, s3, first);
                }
            }
        }
    }
}

/// <summary>Which code path <see cref="Gemm"/> takes.</summary>
internal enum GemmPath
{
    /// <summary>Loops for tiny products, the blocked driver otherwise.</summary>
    Auto,

    /// <summary>Always the loops (no packing).</summary>
    Small,

    /// <summary>Always the blocked driver (float and double).</summary>
    Blocked,
}

/// <summary>How a <see cref="Gemm"/> call runs; the result is the same bits for any choice (given FMA or not).</summary>
/// <param name="Threads">Most threads to use, counting the caller.</param>
/// <param name="Kernel">Micro-kernel; Auto is the widest the hardware runs natively.</param>
/// <param name="Path">Loops or blocked driver; Auto decides by size.</param>
/// <param name="ForceParallel">Spread even small products over <paramref name="Threads"/>.</param>
/// <param name="MaxPackedElements">Cap on each packed copy before the problem is cut into super-blocks (0: the default).</param>
internal readonly record struct GemmOptions(int Threads, GemmKernel Kernel = GemmKernel.Auto, GemmPath Path = GemmPath.Auto,
    bool ForceParallel = false, long MaxPackedElements = 0);
